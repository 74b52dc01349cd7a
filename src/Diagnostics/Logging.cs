using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Bulwark.Diagnostics;

public enum LogFormat
{
    Text,
    Json,
}

/// <summary>
/// Bulwark's log sink: one line per event on stderr, human text (coloured on a terminal) or JSON for machines.
/// Synchronous, so no line is lost when the process exits. Secrets are never passed to loggers.
/// </summary>
public sealed class BulwarkLoggerProvider(LogFormat format, LogLevel minimum, TextWriter output, bool color) : ILoggerProvider
{
    private readonly Lock _gate = new();

    internal LogLevel MinimumLevel { get; } = minimum;

    public static BulwarkLoggerProvider ForStandardError(LogFormat format, bool debug) =>
        new(format, debug ? LogLevel.Debug : LogLevel.Information, Console.Error, color: !Console.IsErrorRedirected && System.Environment.GetEnvironmentVariable("NO_COLOR") is null);

    public ILogger CreateLogger(string categoryName) => new Logger(this, ComponentOf(categoryName));

    public void Dispose() => output.Flush();

    /// <summary>"Bulwark.Etcd.EtcdMember" is shown as "etcd": the capability, which is what an operator reads.</summary>
    private static string ComponentOf(string category)
    {
        var parts = category.Split('.');
        return (parts.Length >= 2 && parts[0] == "Bulwark" ? parts[1] : parts[^1]).ToLowerInvariant();
    }

    private void Write(LogLevel level, string component, string message, Exception? exception)
    {
        var now = DateTimeOffset.Now;
        lock (_gate)
        {
            if (format == LogFormat.Json)
            {
                using var stream = new MemoryStream();
                using (var json = new Utf8JsonWriter(stream))
                {
                    json.WriteStartObject();
                    json.WriteString("time", now.ToUniversalTime().ToString("O"));
                    json.WriteString("level", LevelName(level).ToLowerInvariant());
                    json.WriteString("component", component);
                    json.WriteString("msg", message);
                    if (exception is not null)
                    {
                        json.WriteString("error", exception.Message);
                    }
                    json.WriteEndObject();
                }
                output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
            }
            else
            {
                var levelText = LevelName(level).PadRight(5);
                if (color)
                {
                    levelText = $"\u001b[{LevelColor(level)}m{levelText}\u001b[0m";
                }
                var line = $"{now:HH:mm:ss} {levelText} {component,-12} {message}";
                if (exception is not null && level >= LogLevel.Error)
                {
                    line += $": {exception.Message}";
                }
                output.WriteLine(line);
            }
            output.Flush();
        }
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "TRACE",
        LogLevel.Debug => "DEBUG",
        LogLevel.Information => "INFO",
        LogLevel.Warning => "WARN",
        LogLevel.Error => "ERROR",
        _ => "FATAL",
    };

    private static string LevelColor(LogLevel level) => level switch
    {
        LogLevel.Warning => "33",
        LogLevel.Error or LogLevel.Critical => "31",
        LogLevel.Information => "32",
        _ => "90",
    };

    private sealed class Logger(BulwarkLoggerProvider provider, string component) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= provider.MinimumLevel && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Write(logLevel, component, formatter(state, exception), exception);
            }
        }
    }
}
