using Bulwark.Crypto;

namespace Bulwark.Server.Stages;

/// <summary>FIPS power-on self-tests and the approved-algorithm policy; hands the vetted crypto service to later stages.</summary>
public sealed class CryptoStage : IStage
{
    public string Name => "crypto";

    public Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        var started = CryptoStartup.Start(node.Config);
        node.Crypto = started.Service;
        var mode = FipsModes.From(node.Config).Name();
        return Task.FromResult(new StageResult(started.SelfTests is { } report
            ? $"fips-mode {mode}: {report.Results.Count} power-on self-tests passed; OpenSSL FIPS provider {(started.OpenSsl.FipsProviderActive ? "active" : "not active")}"
            : $"fips-mode {mode}: self-tests skipped"));
    }
}
