using System.Security.Cryptography;
using Bulwark.Processes;

namespace Bulwark.Cni;

/// <summary>A scratch network namespace made with <c>ip netns add</c> under a unique name; deleted on dispose.</summary>
public sealed class NetworkNamespace : IAsyncDisposable
{
    private NetworkNamespace(string name) => Name = name;

    public string Name { get; }
    public string Path => $"/var/run/netns/{Name}";

    public static async Task<NetworkNamespace> CreateAsync(string prefix, CancellationToken cancellationToken)
    {
        var name = $"{prefix}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        await IpAsync(["netns", "add", name], cancellationToken).ConfigureAwait(false);
        var ns = new NetworkNamespace(name);
        // The loopback device starts down; a runtime brings it up (the loopback plugin) before the chain runs.
        await IpAsync(["-n", name, "link", "set", "lo", "up"], cancellationToken).ConfigureAwait(false);
        return ns;
    }

    /// <summary><c>ip -n NS -j ARGS…</c>: JSON output for addresses and routes inside the namespace.</summary>
    public Task<ProcessResult> IpJsonAsync(IReadOnlyList<string> args, CancellationToken cancellationToken) =>
        IpAsync(["-n", Name, "-j", .. args], cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(Path))
        {
            await ProcessRunner.RunAsync(new ProcessSpec(IpProgram, ["netns", "delete", Name])).ConfigureAwait(false);
        }
    }

    internal static string IpProgram => ProgramLocator.Require("ip", "Install iproute2 (apt-get install iproute2).", ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);

    internal static Task<ProcessResult> IpAsync(IReadOnlyList<string> args, CancellationToken cancellationToken) =>
        ProcessRunner.RunCheckedAsync(new ProcessSpec(IpProgram, args) { Timeout = TimeSpan.FromSeconds(30) }, cancellationToken);
}
