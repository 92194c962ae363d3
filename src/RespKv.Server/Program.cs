using RespKv.Server;

var options = new ServerOptions();
for (int i = 0; i + 1 < args.Length; i += 2)
{
    var p = ConfigParameters.Find(args[i].TrimStart('-'));
    if (p == null || p.Set(options, args[i + 1]) is string error) { Console.Error.WriteLine($"bad option {args[i]}"); return 1; }
}
await using var host = RespKvHost.Create(options);
await host.StartAsync();
Console.WriteLine($"Ready to accept connections on port {host.Port}");
await host.WaitForShutdownAsync();
return 0;
