using System.Diagnostics;
using System.Globalization;
using Bulwark.Crypto;
using Bulwark.Processes;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Bulwark.Kms;

/// <summary>
/// The KMS plugin as its own small process (<c>bulwark kms-plugin</c>, hidden), run by the server's kms stage under the
/// one supervisor: kube-apiserver's calls are then served by a process that holds only the keyring and Kestrel, not the
/// whole server (its latency and memory are its own). Its argv names only paths, the TPM's TCTI and the fips mode: it
/// unseals the keys itself from the root-only keyring folder, as the server does. It exits when the server that started
/// it is gone (<see cref="ParentWatch"/>), so an orphan never keeps keys in memory.
/// </summary>
public sealed class KmsPluginProcess : IAsyncDisposable
{
    public const string Command = "kms-plugin";

    /// <summary>
    /// The plugin's working set stays bounded: its live data is a few KiB, but the workstation GC lets gen0 grow to tens
    /// of MiB under a steady call rate (measured: 77 MiB of GC heap after 100,000 calls). Besides the binary's 2 MiB gen0
    /// budget (src/Bulwark.csproj), a 48 MiB heap limit caps it (hex, no "0x": the AOT runtime reads it so); no
    /// background GC thread. Read by the child's runtime only.
    /// </summary>
    public static IReadOnlyDictionary<string, string?> GcEnvironment { get; } = new Dictionary<string, string?>
    {
        ["DOTNET_GCHeapHardLimit"] = "3000000",
        ["DOTNET_gcConcurrent"] = "0",
    };

    private readonly SupervisedProcess _process;

    private KmsPluginProcess(SupervisedProcess process, string socketPath)
    {
        _process = process;
        SocketPath = socketPath;
    }

    public string SocketPath { get; }

    public int? ProcessId => _process.ProcessId;

    /// <summary>The argv of the plugin process (no secret: paths, TCTI, fips mode, the parent's pid).</summary>
    public static IReadOnlyList<string> Arguments(string keyringFolder, string socketPath, string tpmTcti, FipsMode fips) =>
    [
        Command, "--keyring", keyringFolder, "--socket", socketPath, "--tpm-tcti", tpmTcti, "--fips-mode", fips.Name(),
        "--parent-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
    ];

    /// <summary>Starts <c>bulwark kms-plugin</c> and waits until its Status answers healthy (the log tail if it dies first).</summary>
    public static async Task<KmsPluginProcess> StartAsync(string bulwarkBinary, IReadOnlyList<string> arguments, string socketPath, string logFile, ILogger logger,
        TimeSpan readyTimeout, CancellationToken cancellationToken)
    {
        var process = new SupervisedProcess("kms-plugin", new ProcessSpec(bulwarkBinary, arguments) { Environment = GcEnvironment }, logFile,
            new SupervisionOptions { StopGrace = TimeSpan.FromSeconds(5) }, logger);
        try
        {
            process.Start();
            await WaitReadyAsync(process, socketPath, readyTimeout, cancellationToken).ConfigureAwait(false);
            return new KmsPluginProcess(process, socketPath);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task WaitReadyAsync(SupervisedProcess process, string socketPath, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var last = "the socket does not exist yet";
        while (watch.Elapsed < timeout)
        {
            if (!process.IsRunning && process.LastExitCode is { } code)
            {
                throw new KmsKeyringException($"the KMS plugin process exited with code {code} during start. Last log lines:\n{process.LogTail()}");
            }
            if (File.Exists(socketPath))
            {
                using var client = new KmsClient(socketPath);
                try
                {
                    var status = await client.StatusAsync(cancellationToken).ConfigureAwait(false);
                    if (status.Healthz == KmsPluginService.Healthy)
                    {
                        return;
                    }
                    last = "Status answers unhealthy: " + status.Healthz;
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
                {
                    last = $"Status does not answer yet ({e.StatusCode})";
                }
            }
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
        throw new KmsKeyringException($"the KMS plugin on {socketPath} was not ready within {timeout.TotalSeconds:0} s ({last}). Last log lines:\n{process.LogTail()}");
    }

    /// <summary>Stops the process (SIGTERM: it stops serving and zeroes its keys); the plugin removes its socket.</summary>
    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
