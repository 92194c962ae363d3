using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RespKv.Ecosystem.Tests.Support;

/// <summary>An in-process ASP.NET Core application on <see cref="TestServer"/> (no socket), for the web libraries' scenarios.</summary>
public static class TestWebHost
{
    /// <summary>Builds and starts an application: <paramref name="services"/> registers its services, <paramref name="pipeline"/> maps its endpoints.</summary>
    public static async Task<WebApplication> StartAsync(Action<IServiceCollection> services, Action<WebApplication> pipeline)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        services(builder.Services);
        WebApplication app = builder.Build();
        pipeline(app);
        await app.StartAsync();
        return app;
    }
}
