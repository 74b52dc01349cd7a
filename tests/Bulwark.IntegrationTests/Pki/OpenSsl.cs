using Bulwark.Processes;

namespace Bulwark.Tests.Pki;

/// <summary>Runs the real openssl binary.</summary>
internal static class OpenSsl
{
    public static Task<ProcessResult> RunAsync(params string[] args) =>
        ProcessRunner.RunAsync(new ProcessSpec("openssl", args) { Timeout = TimeSpan.FromSeconds(60), StandardInput = Array.Empty<byte>() }, TestContext.Current.CancellationToken);

    public static async Task<string> CheckedAsync(params string[] args)
    {
        var result = await RunAsync(args);
        Assert.True(result.Succeeded, $"openssl {string.Join(' ', args)} exited {result.ExitCode}: {result.StandardError}{result.StandardOutput}");
        return result.StandardOutput;
    }
}
