using Bulwark.Cni;
using Bulwark.Diagnostics;
using Bulwark.FileSystem;
using Bulwark.Processes;

namespace Bulwark.Operations;

/// <summary>
/// <c>bulwark uninstall</c>, as rke2-uninstall.sh: killall, then disable the units, remove the files install.sh
/// placed (its install manifest under the prefix), the CNI files every supported CNI leaves, the config folder and the
/// data dir. Safe to run again after an interruption: each step skips what is already gone, and the install manifest
/// goes last so a second run still knows what to remove.
/// </summary>
public sealed class NodeUninstall(NodeLayout layout, CniCatalog catalog, string prefix, TextWriter output)
{
    /// <summary>Written by scripts/install.sh: one absolute path per line, every file it placed.</summary>
    public const string ManifestPath = "share/bulwark/install-manifest";

    public static readonly IReadOnlyList<string> Units = ["bulwark-server.service", "bulwark-agent.service"];

    /// <summary>Folders an uninstall must never remove whole, whatever --data-dir or --config say.</summary>
    private static readonly HashSet<string> Protected = new(StringComparer.Ordinal)
    {
        "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp",
        "/usr", "/usr/local", "/usr/local/bin", "/var", "/var/lib", "/var/run", "/var/log",
    };

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var dataDir = Path.GetFullPath(layout.DataDir).TrimEnd('/');
        var etcDir = Path.GetFullPath(layout.EtcDir).TrimEnd('/');
        foreach (var (folder, what) in new[] { (dataDir, "--data-dir"), (etcDir, "the config folder") })
        {
            if (Protected.Contains(folder))
            {
                throw new BulwarkException(ErrorKind.Usage, $"{what} is {folder}: refusing to remove a system folder; point it at Bulwark's own folder. Nothing was changed.");
            }
        }
        output.WriteLine("Stopping everything this node runs:");
        await new NodeKillall(layout, catalog, output).RunAsync(cancellationToken).ConfigureAwait(false);
        output.WriteLine("Removing Bulwark:");
        await DisableUnitsAsync(cancellationToken).ConfigureAwait(false);
        var manifest = Path.Combine(prefix, ManifestPath);
        var installed = File.Exists(manifest) ? InstalledFiles(manifest) : [];
        if (!File.Exists(manifest))
        {
            Say($"no install record at {manifest}: binaries and units installed another way are left alone");
        }
        foreach (var path in installed.Where(p => p != manifest).Concat(catalog.All.SelectMany(s => s.Cleanup.Paths)).Append(etcDir).Append(dataDir).Distinct(StringComparer.Ordinal))
        {
            Remove(path);
        }
        Remove(manifest);
        output.WriteLine("uninstall: done");
    }

    /// <summary>The manifest's paths: absolute, no "..", never a protected folder (it is root's file, but checked all the same).</summary>
    private static List<string> InstalledFiles(string manifest) =>
        File.ReadLines(manifest).Select(l => l.Trim()).Where(l => l.Length > 0)
            .Where(l => Path.IsPathFullyQualified(l) && !l.Split('/').Contains("..") && !Protected.Contains(l.TrimEnd('/')))
            .ToList();

    private async Task DisableUnitsAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists("/run/systemd/system") || ProgramLocator.Find("systemctl") is not { } systemctl)
        {
            return;
        }
        foreach (var unit in Units)
        {
            var result = await ProcessRunner.RunAsync(new ProcessSpec(systemctl, ["disable", "--now", unit]) { Timeout = TimeSpan.FromMinutes(2) }, cancellationToken).ConfigureAwait(false);
            if (result.Succeeded)
            {
                Say($"disabled and stopped {unit}");
            }
        }
        await ProcessRunner.RunAsync(new ProcessSpec(systemctl, ["daemon-reload"]), cancellationToken).ConfigureAwait(false);
    }

    private void Remove(string path)
    {
        if (Directory.Exists(path) && new FileInfo(path).LinkTarget is null)
        {
            Directory.Delete(path, recursive: true);
            Say($"removed {path}/");
        }
        else if (File.Exists(path) || new FileInfo(path).LinkTarget is not null)
        {
            File.Delete(path);
            Say($"removed {path}");
        }
    }

    private void Say(string line)
    {
        output.WriteLine("  " + line);
        output.Flush();
    }
}
