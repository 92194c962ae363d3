using Microsoft.Extensions.Logging;

namespace RespKv.Tests.Support;

/// <summary>A logger provider that keeps every formatted message (with its exception, if any), for tests that check the server's log.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider, ILogger
{
    /// <summary>The messages logged so far, in order.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Messages { get; } = new();

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Messages.Enqueue(formatter(state, exception) + exception);

    public void Dispose() { }
}
