using System.CommandLine;
using System.Text.Json;
using Bulwark.Config;

namespace Bulwark.Cli;

internal static class ConfigCommand
{
    public static Command Create(CliEnvironment env)
    {
        var role = new Option<string>("--role") { Description = "Print the configuration as a server or an agent reads it", DefaultValueFactory = _ => "server", HelpName = "server|agent" };
        role.AcceptOnlyFromAmong("server", "agent");
        var output = OutputOption.Create();
        var print = new Command("print", "Print the effective configuration and where each value comes from (file:line, env, flag, default)") { role, output };
        var flags = ConfigFlags.AddTo(print, ConfigKeys.All.Where(k => k != ConfigKeys.Debug && k != ConfigKeys.LogFormat));
        print.SetAction(parse =>
        {
            var configRole = parse.GetValue(role) == "agent" ? ConfigRole.Agent : ConfigRole.Server;
            var config = GlobalOptions.LoadConfig(parse, env, configRole, flags, ConfigChecks.ForNodeRun);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            var entries = config.Entries().Select(e => new ConfigEntryView(e.Key.Name, Redact(e.Key, e.Key.Format(e.Value)), e.Source.Where)).ToArray();
            if (parse.GetValue(output) == "json")
            {
                env.Out.WriteLine(JsonSerializer.Serialize(entries, CliJsonContext.Default.ConfigEntryViewArray));
                return ExitCodes.Ok;
            }
            env.Out.WriteLine($"# effective {parse.GetValue(role)} configuration; files read: {(config.Files.Count == 0 ? "none" : string.Join(", ", config.Files))}");
            var width = entries.Max(e => e.Key.Length + e.Value.Length) + 3;
            foreach (var entry in entries)
            {
                var line = $"{entry.Key}: {entry.Value}";
                env.Out.WriteLine($"{line.PadRight(width)} # {entry.Source}");
            }
            return ExitCodes.Ok;
        });
        return new Command("config", "Inspect Bulwark's configuration") { print };
    }

    /// <summary>Tokens and the S3 secret key are secrets: shown only as set or unset.</summary>
    private static string Redact(ConfigKey key, string value) =>
        (key == ConfigKeys.Token || key == ConfigKeys.AgentToken || key == ConfigKeys.EtcdS3SecretKey) && value.Length > 0 ? "(set, hidden)" : value;
}
