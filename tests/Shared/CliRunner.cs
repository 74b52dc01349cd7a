using Bulwark.Cli;
using CliWrap;
using CliWrap.Buffered;

namespace Bulwark.Tests;

/// <summary>
/// Runs the bulwark CLI with captured output and a controlled environment: in-process, or — when
/// <see cref="BulwarkBinary.Override"/> names a binary (the published AOT one under <c>make test</c>) — as that program.
/// </summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Out, string Error);

    public static async Task<Result> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        if (BulwarkBinary.Override is { } binary)
        {
            var run = await CliWrap.Cli.Wrap(binary)
                .WithArguments(args)
                .WithEnvironmentVariables(variables => variables.Set((environment ?? new Dictionary<string, string>()).Select(e => new KeyValuePair<string, string?>(e.Key, e.Value))))
                .WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync(TestContext.Current.CancellationToken);
            return new Result(run.ExitCode, run.StandardOutput, run.StandardError);
        }
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var env = new CliEnvironment(environment ?? new Dictionary<string, string>(), stdout, stderr);
        var code = await BulwarkCli.RunAsync(args, env, TestContext.Current.CancellationToken);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    public static Task<Result> RunAsync(params string[] args) => RunAsync(null, args);
}
