using System.Diagnostics;

namespace Bulwark.Tests.Airgap;

/// <summary>Runs real tools (openssl, skopeo, tar, sha256sum) with argument arrays.</summary>
public static class Tools
{
    public sealed record Result(int ExitCode, string Out, string Error);

    public static async Task<Result> TryRunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    public static async Task<string> RunAsync(string program, params string[] args)
    {
        var result = await TryRunAsync(program, args);
        return result.ExitCode == 0 ? result.Out : throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {result.ExitCode}: {result.Error}");
    }
}
