using Bulwark.Cli;

namespace Bulwark.Tests;

/// <summary>Runs the bulwark CLI in-process with captured output and a controlled environment.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Out, string Error);

    public static async Task<Result> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var env = new CliEnvironment(environment ?? new Dictionary<string, string>(), stdout, stderr);
        var code = await BulwarkCli.RunAsync(args, env, TestContext.Current.CancellationToken);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    public static Task<Result> RunAsync(params string[] args) => RunAsync(null, args);
}
