using Bulwark.FileSystem;
using Bulwark.Processes;

namespace Bulwark.Hardening;

/// <summary>One change <c>hardening apply</c> made (or would make, with --dry-run).</summary>
public sealed record HardeningChange(string What, bool Changed, string Detail);

/// <summary>
/// Makes a host pass the preflight: installs the sysctl drop-in, applies its values, and creates the etcd
/// system account. Idempotent: what is already right is reported unchanged.
/// </summary>
public sealed class HostHardener(HostRoot host, SysctlProfile sysctl)
{
    public async Task<IReadOnlyList<HardeningChange>> ApplyAsync(bool dryRun, CancellationToken cancellationToken)
    {
        var changes = new List<HardeningChange>();

        var dropIn = host.Resolve(SysctlProfile.InstallPath);
        var upToDate = File.Exists(dropIn) && File.ReadAllText(dropIn) == sysctl.FileText;
        if (!upToDate && !dryRun)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(dropIn)!);
            AtomicFile.WriteAllText(dropIn, sysctl.FileText, AtomicFile.WorldReadable);
        }
        changes.Add(new HardeningChange($"/{SysctlProfile.InstallPath}", !upToDate, upToDate ? "already installed" : "installed"));

        foreach (var parameter in sysctl.Parameters)
        {
            var path = host.Resolve(parameter.ProcPath);
            var current = File.Exists(path) ? File.ReadAllText(path).Trim() : null;
            if (current == parameter.Value)
            {
                changes.Add(new HardeningChange(parameter.Name, false, $"already {parameter.Value}"));
                continue;
            }
            if (current is null)
            {
                throw new InvalidOperationException($"{parameter.Name}: {path} does not exist; this kernel (or host root) has no such parameter");
            }
            if (!dryRun)
            {
                // Same effect as `sysctl -w`, and works for a host root mounted elsewhere.
                await File.WriteAllTextAsync(path, parameter.Value + "\n", cancellationToken).ConfigureAwait(false);
            }
            changes.Add(new HardeningChange(parameter.Name, true, $"{current} -> {parameter.Value}"));
        }

        changes.AddRange(await EnsureEtcdAccountAsync(dryRun, cancellationToken).ConfigureAwait(false));
        return changes;
    }

    private async Task<IReadOnlyList<HardeningChange>> EnsureEtcdAccountAsync(bool dryRun, CancellationToken cancellationToken)
    {
        var changes = new List<HardeningChange>();
        const string name = HostPreflight.EtcdAccount;
        // --prefix edits the passwd/group files of a host mounted elsewhere, without chroot.
        IReadOnlyList<string> prefix = host.IsReal ? [] : ["--prefix", Path.GetFullPath(host.Path)];

        if (HostAccounts.GroupExists(host, name))
        {
            changes.Add(new HardeningChange("group etcd", false, "already exists"));
        }
        else
        {
            if (!dryRun)
            {
                await ProcessRunner.RunCheckedAsync(new ProcessSpec(ProgramLocator.Require("groupadd", "Install the passwd package."),
                    [.. prefix, "--system", name]), cancellationToken).ConfigureAwait(false);
            }
            changes.Add(new HardeningChange("group etcd", true, "created (system group)"));
        }

        if (HostAccounts.UserExists(host, name))
        {
            changes.Add(new HardeningChange("user etcd", false, "already exists"));
        }
        else
        {
            if (!dryRun)
            {
                await ProcessRunner.RunCheckedAsync(new ProcessSpec(ProgramLocator.Require("useradd", "Install the passwd package."),
                    [.. prefix, "--system", "--gid", name, "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "--comment", "etcd user", name]),
                    cancellationToken).ConfigureAwait(false);
            }
            changes.Add(new HardeningChange("user etcd", true, "created (system user, no login shell, no home)"));
        }
        return changes;
    }
}
