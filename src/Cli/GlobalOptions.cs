using System.CommandLine;
using Bulwark.Config;
using Bulwark.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Bulwark.Cli;

/// <summary>
/// The options every command shares (--config, --debug, --log-format) and the one way commands load
/// configuration: every problem printed together, exit code 2, nothing written.
/// </summary>
public sealed class GlobalOptions
{
    public static readonly Option<bool> Debug = new("--debug") { Description = "Turn on debug logs", Recursive = true };

    public static readonly Option<string> LogFormat = new("--log-format")
    {
        Description = "Log format: text (default) or json",
        Recursive = true,
        HelpName = "text|json",
    };

    public static void AddTo(RootCommand root)
    {
        root.Options.Add(ConfigFlags.ConfigFile);
        root.Options.Add(Debug);
        root.Options.Add(LogFormat);
    }

    /// <summary>Loads configuration for a command. On errors prints them all and returns null (the caller exits with <see cref="ExitCodes.Usage"/>).</summary>
    public static EffectiveConfig? LoadConfig(ParseResult parse, CliEnvironment env, ConfigRole role, ConfigFlags? flags, IReadOnlyList<ConfigCheck>? checks = null)
    {
        var settings = new List<RawSetting>(flags?.Read(parse) ?? []);
        if (parse.GetResult(Debug) is { Implicit: false })
        {
            settings.Add(new RawSetting(ConfigKeys.Debug.Name, false, [parse.GetValue(Debug) ? "true" : "false"], false, ConfigSource.Flag("--debug")));
        }
        if (parse.GetValue(LogFormat) is { } format)
        {
            settings.Add(new RawSetting(ConfigKeys.LogFormat.Name, false, [format], false, ConfigSource.Flag("--log-format")));
        }
        var request = new ConfigRequest(role, parse.GetValue(ConfigFlags.ConfigFile), env.Variables, settings) { Checks = checks ?? ConfigChecks.All };
        var result = ConfigLoader.Load(request);
        foreach (var warning in result.Warnings)
        {
            env.Error.WriteLine($"warning: {warning}");
        }
        if (result.Config is null)
        {
            var errors = result.Errors.ToList();
            foreach (var error in errors)
            {
                env.Error.WriteLine($"error: {error}");
            }
            env.Error.WriteLine($"bulwark: {errors.Count} configuration {(errors.Count == 1 ? "error" : "errors")}; nothing was changed.");
        }
        return result.Config;
    }

    public static ILoggerFactory CreateLoggerFactory(EffectiveConfig config, CliEnvironment env)
    {
        var format = config.Get(ConfigKeys.LogFormat) == "json" ? Diagnostics.LogFormat.Json : Diagnostics.LogFormat.Text;
        var debug = config.Get(ConfigKeys.Debug);
        var provider = ReferenceEquals(env.Error, Console.Error)
            ? BulwarkLoggerProvider.ForStandardError(format, debug)
            : new BulwarkLoggerProvider(format, debug ? LogLevel.Debug : LogLevel.Information, env.Error, color: false);
        return LoggerFactory.Create(builder =>
        {
            builder.ClearProviders();
            builder.SetMinimumLevel(debug ? LogLevel.Debug : LogLevel.Information);
            builder.AddProvider(provider);
        });
    }
}
