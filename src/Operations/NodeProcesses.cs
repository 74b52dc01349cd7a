using System.Globalization;
using Bulwark.FileSystem;
using Bulwark.Processes;
using Bulwark.Runtime;

namespace Bulwark.Operations;

/// <summary>
/// The processes one node (one data dir) started, found as RKE2's killall finds them: the bulwark holding the data-dir
/// lock, etcd and containerd by their pid files or their data dir / config file in argv, the containerd shims serving this
/// node's socket, programs run from the runtime bundle (&lt;data&gt;/data/*/bin), and every descendant (pods).
/// Never this process nor its ancestors.
/// </summary>
public sealed class NodeProcesses(NodeLayout layout)
{
    private readonly RuntimePaths _runtime = RuntimePaths.For(layout);

    /// <summary>The running bulwark server or agent of this data dir, if any: stopped first, gracefully.</summary>
    public ProcessEntry? Supervisor(IReadOnlyList<ProcessEntry> table) =>
        DataDirLock.Holder(layout.LockFile) is { } pid && table.FirstOrDefault(p => p.Pid == pid && p.State != 'Z') is { } entry && IsBulwark(entry) ? entry : null;

    public IReadOnlyList<ProcessEntry> All(IReadOnlyList<ProcessEntry> table)
    {
        var spared = ProcessTable.SelfAndAncestors(table, Environment.ProcessId);
        var pidFiles = new[] { PidFrom(layout.EtcdPidFile), PidFrom(_runtime.PidFile) }.OfType<int>().ToHashSet();
        var bundle = Path.GetFullPath(layout.RuntimeDataDir) + "/";
        var roots = table.Where(p =>
                (pidFiles.Contains(p.Pid) && p.Name is "etcd" or "containerd")
                || (p.Name == "etcd" && p.ArgumentValue("--data-dir") == layout.EtcdMemberDir)
                || (p.Name == "containerd" && p.ArgumentValue("--config") == _runtime.ConfigFile)
                || (p.Name.StartsWith("containerd-shim", StringComparison.Ordinal) && p.ArgumentValue("-address") == _runtime.Socket)
                || (p.Executable?.StartsWith(bundle, StringComparison.Ordinal) ?? false)
                || ProcessTable.RootIsUnder(p.Pid, _runtime.Root))
            .Select(p => p.Pid)
            .Concat(Supervisor(table) is { } supervisor ? [supervisor.Pid] : []);
        return ProcessTable.WithDescendants(table, roots).Where(p => !spared.Contains(p.Pid) && p.State != 'Z').OrderBy(p => p.Pid).ToList();
    }

    private static bool IsBulwark(ProcessEntry entry) =>
        entry.Name == "bulwark" || Path.GetFileName(entry.Executable ?? "") == "bulwark";

    private static int? PidFrom(string file)
    {
        try
        {
            return int.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 1 ? pid : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
