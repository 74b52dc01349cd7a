using System.CommandLine;
using System.Text.Json;

namespace Bulwark.Cli;

internal static class VersionCommand
{
    public static Command Create(CliEnvironment env)
    {
        var output = OutputOption.Create();
        var command = new Command("version", "Print the version, git commit, .NET runtime and platform") { output };
        command.SetAction(parse =>
        {
            var info = BuildInfo.Current;
            if (parse.GetValue(output) == "json")
            {
                env.Out.WriteLine(JsonSerializer.Serialize(info, CliJsonContext.Default.BuildInfo));
            }
            else
            {
                env.Out.WriteLine($"bulwark {info.Version}");
                env.Out.WriteLine($"  commit:   {info.Commit}");
                env.Out.WriteLine($"  runtime:  {info.Runtime}");
                env.Out.WriteLine($"  platform: {info.Platform}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}

/// <summary>The --output option of commands that print a report: text for people, json for machines.</summary>
internal static class OutputOption
{
    public static Option<string> Create(params string[] formats)
    {
        string[] allowed = formats.Length == 0 ? ["text", "json"] : formats;
        var option = new Option<string>("--output", "-o")
        {
            Description = "Output format",
            HelpName = string.Join("|", allowed),
            DefaultValueFactory = _ => allowed[0],
        };
        option.AcceptOnlyFromAmong(allowed);
        return option;
    }
}
