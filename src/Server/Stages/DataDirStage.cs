using Bulwark.Diagnostics;
using Bulwark.FileSystem;

namespace Bulwark.Server.Stages;

/// <summary>
/// The data dir, first of all: created 0700 (docs/layout.md; the same for first servers, joined servers and agents) and
/// locked for the life of the process, so a second bulwark on the same data dir is refused before it touches anything.
/// </summary>
public sealed class DataDirStage : IStage
{
    public string Name => "data-dir";

    public Task<StageResult> RunAsync(NodeContext node, CancellationToken cancellationToken)
    {
        var dir = node.Layout.DataDir;
        if (File.Exists(dir))
        {
            throw new BulwarkException(ErrorKind.Usage, $"data-dir {dir} is a file, not a folder; point --data-dir at a folder (it is created if missing). Nothing was changed.");
        }
        var missing = Ancestors(dir).FirstOrDefault(File.Exists);
        if (missing is not null)
        {
            throw new BulwarkException(ErrorKind.Usage, $"data-dir {dir} cannot be created: {missing} is a file, not a folder. Choose another --data-dir. Nothing was changed.");
        }
        var created = !Directory.Exists(dir);
        if (created)
        {
            Directory.CreateDirectory(dir, AtomicFile.PrivateDirectory);
        }
        else
        {
            // Tighten, never loosen: keep only the owner's bits and the group search the etcd account may need (0710).
            File.SetUnixFileMode(dir, File.GetUnixFileMode(dir) & (AtomicFile.PrivateDirectory | UnixFileMode.GroupExecute));
        }
        var held = DataDirLock.Acquire(node.Layout.LockFile);
        return Task.FromResult(new StageResult($"{(created ? "created" : "using")} {dir}; locked by this process (pid {Environment.ProcessId}) in {held.Path}")
        {
            Running = new Releasing(held),
        });
    }

    private static IEnumerable<string> Ancestors(string dir)
    {
        for (var parent = Path.GetDirectoryName(dir); !string.IsNullOrEmpty(parent); parent = Path.GetDirectoryName(parent))
        {
            yield return parent;
        }
    }

    private sealed class Releasing(DataDirLock held) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            held.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
