using System.CommandLine;
using System.CommandLine.Parsing;
using Bulwark.Config;

namespace Bulwark.Cli;

/// <summary>Generates command-line flags from the key table, and reads them back as raw settings for the loader.</summary>
public sealed class ConfigFlags
{
    private readonly List<(ConfigKey Key, Option Option)> _options = [];

    public static readonly Option<string> ConfigFile = new("--config", "-c")
    {
        Description = $"Config file (default {ConfigLoader.DefaultConfigFile}; drop-ins in <file>.d/*.yaml)",
        Recursive = true,
        HelpName = "FILE",
    };

    private ConfigFlags()
    {
    }

    /// <summary>Flags for the given keys, added to the command.</summary>
    public static ConfigFlags AddTo(Command command, IEnumerable<ConfigKey> keys)
    {
        var flags = new ConfigFlags();
        foreach (var key in keys)
        {
            Option option = key switch
            {
                BoolKey => new Option<bool>(key.FlagName) { Description = key.Description },
                ListKey => new Option<string[]>(key.FlagName)
                {
                    Description = key.Description + " (repeatable)",
                    AllowMultipleArgumentsPerToken = false,
                    HelpName = "VALUE",
                },
                EnumKey e => new Option<string>(key.FlagName) { Description = key.Description, HelpName = string.Join("|", e.Allowed.Where(a => a.Length > 0)) },
                _ => new Option<string>(key.FlagName) { Description = key.Description, HelpName = HelpNameOf(key) },
            };
            command.Options.Add(option);
            flags._options.Add((key, option));
        }
        return flags;
    }

    /// <summary>The flags the user actually gave, as raw settings (the loader converts and validates them like any source).</summary>
    public IReadOnlyList<RawSetting> Read(ParseResult parse)
    {
        var settings = new List<RawSetting>();
        foreach (var (key, option) in _options)
        {
            var result = parse.GetResult(option);
            if (result is null || result.Implicit)
            {
                continue;
            }
            var source = ConfigSource.Flag(key.FlagName);
            IReadOnlyList<string> values = key switch
            {
                BoolKey => [result.Tokens.Count == 0 ? "true" : result.Tokens[0].Value],
                _ => result.Tokens.Select(t => t.Value).ToList(),
            };
            settings.Add(new RawSetting(key.Name, false, values, key.IsList, source));
        }
        return settings;
    }

    private static string HelpNameOf(ConfigKey key) => key switch
    {
        IntKey => "N",
        _ when key.Name.EndsWith("-file", StringComparison.Ordinal) || key.Name.EndsWith("-dir", StringComparison.Ordinal) => "PATH",
        _ => "VALUE",
    };
}
