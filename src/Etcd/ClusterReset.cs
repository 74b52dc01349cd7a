using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using Bulwark.FileSystem;
using Bulwark.Processes;
using Microsoft.Extensions.Logging;
using Bulwark.Airgap;
using Bulwark.Diagnostics;

namespace Bulwark.Etcd;

/// <summary>A reset or restore that Bulwark refused before changing anything, with the reason and the fix.</summary>
public sealed class ResetRefusedException(string message) : BulwarkException(ErrorKind.Refused, message);

/// <summary>What a finished reset did, and what the operator must do next.</summary>
public sealed record ResetOutcome(string MemberName, string? RestoredFrom, string? OldDataMovedTo, IReadOnlyList<string> Guidance);

/// <summary>Checks a snapshot file before it is trusted: metadata checksum (when present), then etcd's own SHA-256 trailer.</summary>
public static class SnapshotVerifier
{
    /// <summary>One read of the file (two for a zip): its SHA-256 (against the metadata) and etcd's trailer check.</summary>
    public static async Task<string?> ProblemAsync(string path, SnapshotMetadata? metadata, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return "the file does not exist";
        }
        var size = new FileInfo(path).Length;
        if (metadata is not null && size != metadata.Size)
        {
            return $"it is {size} bytes but its metadata says {metadata.Size}: the file is truncated or was replaced";
        }
        string? contentProblem;
        byte[] actual;
        try
        {
            if (SnapshotFormat.Of(path) == SnapshotCompression.Zip)
            {
                // A zip is read from its central directory at the end, so the file's checksum takes a pass of its own, first.
                await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 20, useAsync: true))
                {
                    actual = await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false);
                }
                return ChecksumProblem(actual, metadata)
                    ?? await SnapshotFormat.ReadContentAsync(path, content => SnapshotIntegrity.CheckFileAsync(content, cancellationToken)).ConfigureAwait(false);
            }
            await using var plain = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 20, useAsync: true);
            await using var hashing = new HashingReadStream(plain);
            await using Stream content = SnapshotFormat.Of(path) == SnapshotCompression.Gzip ? new GZipStream(hashing, CompressionMode.Decompress, leaveOpen: true) : hashing;
            contentProblem = await SnapshotIntegrity.CheckFileAsync(content, cancellationToken).ConfigureAwait(false);
            // Whatever the decompressor left unread still belongs to the file's checksum.
            await hashing.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
            actual = hashing.Hash();
        }
        catch (InvalidDataException e)
        {
            return $"its compressed data is corrupted ({e.Message})";
        }
        catch (EndOfStreamException)
        {
            return "its compressed data is truncated";
        }
        return ChecksumProblem(actual, metadata) ?? contentProblem;
    }

    private static string? ChecksumProblem(byte[] actual, SnapshotMetadata? metadata) =>
        metadata is not null && !CryptographicOperations.FixedTimeEquals(actual, Convert.FromHexString(metadata.Sha256))
            ? $"its SHA-256 {Convert.ToHexStringLower(actual)} differs from the recorded {metadata.Sha256}: the file is corrupted"
            : null;
}

/// <summary>
/// <c>--cluster-reset</c> and <c>--cluster-reset-restore-path</c>, as RKE2: restart the local member alone with
/// --force-new-cluster (keeping its data), optionally after restoring a verified snapshot into a fresh member dir;
/// leave a reset-flag; return guidance. Nothing is moved until the snapshot has been verified.
/// </summary>
public sealed class ClusterReset(EtcdNode node, ILogger logger)
{
    /// <param name="restoreForeign">Restore even when the snapshot cannot be proven to belong to this cluster (no metadata, no
    /// token fingerprint, or another cluster's token): the node then serves whatever cluster's data the snapshot holds.</param>
    /// <param name="s3">Where to fetch a snapshot named in <paramref name="restorePath"/> that is not in <paramref name="snapshotDir"/>
    /// (etcd-s3); its token fingerprint is checked before anything is downloaded.</param>
    public async Task<ResetOutcome> RunAsync(string? restorePath, string snapshotDir, SnapshotToken token, bool restoreForeign, CancellationToken cancellationToken,
        S3SnapshotStore? s3 = null, TransferProgress? progress = null)
    {
        var paths = node.Paths;
        string? restoreFrom = null;
        string? movedTo = null;
        if (string.IsNullOrEmpty(restorePath))
        {
            if (File.Exists(paths.ResetFlag))
            {
                throw new ResetRefusedException($"managed etcd cluster membership was previously reset on this node ({paths.ResetFlag} exists). " +
                    $"Start normally (without --cluster-reset), or if you really mean to reset again, delete {paths.ResetFlag} first.");
            }
            if (!paths.HasMemberData)
            {
                throw new ResetRefusedException($"there is no etcd member data in {paths.MemberDir} to reset. Use --cluster-reset-restore-path to restore from a snapshot.");
            }
        }
        else
        {
            var (snapshot, metadata) = await ResolveAsync(restorePath, snapshotDir, token, restoreForeign, s3, progress, cancellationToken).ConfigureAwait(false);
            logger.LogInformation("verifying snapshot {Snapshot}", snapshot);
            if (await SnapshotVerifier.ProblemAsync(snapshot, metadata, cancellationToken).ConfigureAwait(false) is { } problem)
            {
                throw new ResetRefusedException($"snapshot {snapshot} cannot be restored: {problem}. Nothing was changed; pick another snapshot (bulwark etcd-snapshot list).");
            }
            RequireOwned(snapshot, metadata, token, restoreForeign, "Nothing was changed.");
            restoreFrom = snapshot;
            await StaleMember.StopAsync(paths.PidFile, paths.MemberDir, logger, cancellationToken).ConfigureAwait(false);
            movedTo = await RestoreAsync(snapshot, cancellationToken).ConfigureAwait(false);
        }

        await StaleMember.StopAsync(paths.PidFile, paths.MemberDir, logger, cancellationToken).ConfigureAwait(false);
        var config = node.SingleMemberConfig(forceNewCluster: true);
        logger.LogInformation("starting etcd member {Name} with --force-new-cluster", config.Name);
        var member = new EtcdMember(node.Prepare(config), logger);
        await using (member.ConfigureAwait(false))
        {
            await member.StartAsync(cancellationToken).ConfigureAwait(false);
            using var client = new EtcdClient(node.ClientOptions());
            var members = await client.MemberListAsync(cancellationToken).ConfigureAwait(false);
            if (members.Count != 1)
            {
                throw new EtcdStartException($"after the reset etcd still lists {members.Count} members; see {paths.LogFile}");
            }
            // k3s disarms alarms after a reset too; a NOSPACE from before would keep /health false.
            await client.AlarmDisarmAllAsync(cancellationToken).ConfigureAwait(false);
            await member.StopAsync().ConfigureAwait(false);
        }
        // Leave the config without force-new-cluster: it must be used once only (ETCD-GATEWAY.md pitfall 13).
        node.WriteConfig(node.SingleMemberConfig());
        AtomicFile.WriteAllText(paths.ResetFlag, DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture) + "\n", AtomicFile.Private);
        return new ResetOutcome(config.Name, restoreFrom, movedTo,
        [
            "Managed etcd cluster membership has been reset; this node is now the only member.",
            "Restart bulwark server without --cluster-reset (and without --cluster-reset-restore-path).",
            $"On each other server: stop bulwark, back up and delete {Path.Combine("<data-dir>", "server", "db")}, then start it again to rejoin.",
        ]);
    }

    /// <summary>etcdctl's reason in one line: the panic or error message, without the goroutine trace that follows it.</summary>
    internal static string RestoreFailure(ProcessResult result)
    {
        var lines = (result.StandardError + "\n" + result.StandardOutput).Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var reason = lines.FirstOrDefault(l => l.StartsWith("panic:", StringComparison.Ordinal) || l.StartsWith("Error:", StringComparison.Ordinal))
            ?? lines.FirstOrDefault(l => !l.StartsWith('{')) ?? $"etcdctl exited with code {result.ExitCode}";
        reason = reason.StartsWith("panic:", StringComparison.Ordinal) ? reason["panic:".Length..].Trim() : reason.StartsWith("Error:", StringComparison.Ordinal) ? reason["Error:".Length..].Trim() : reason;
        // "cannot open database at <temporary member dir>/member/snap/db (invalid database)": that folder is gone again.
        reason = System.Text.RegularExpressions.Regex.Replace(reason, @" at /\S+", "");
        return reason.Length <= 200 ? reason : reason[..200] + "…";
    }

    /// <summary>Why the snapshot cannot be proven to be this cluster's, or null when its token fingerprint matches.</summary>
    private static string? OwnershipProblem(string snapshot, SnapshotMetadata? metadata, SnapshotToken token) =>
        metadata is null ? $"snapshot {snapshot} has no metadata ({Path.GetFileName(snapshot)}{SnapshotStore.MetadataSuffix}), so nothing proves it belongs to this cluster."
        : metadata.TokenHash.Length == 0 ? $"snapshot {snapshot} records no cluster token fingerprint, so nothing proves it belongs to this cluster."
        : token.IsEmpty ? $"this server has no cluster token to check snapshot {snapshot} against."
        : !token.Matches(metadata.TokenHash) ? $"snapshot {snapshot} was taken under a different cluster token than this server's."
        : null;

    /// <summary>Refuses a snapshot that cannot be proven to be this cluster's, unless --cluster-reset-restore-foreign says to go on.</summary>
    private void RequireOwned(string snapshot, SnapshotMetadata? metadata, SnapshotToken token, bool restoreForeign, string nothingDone)
    {
        if (OwnershipProblem(snapshot, metadata, token) is not { } foreign)
        {
            return;
        }
        if (!restoreForeign)
        {
            throw new ResetRefusedException($"{foreign} {nothingDone} Restore it with the token the cluster had when the snapshot was taken " +
                "(--token or token-file), or, only if you know where the snapshot came from, add --cluster-reset-restore-foreign: " +
                "this node will then serve that snapshot's data, whatever cluster it belongs to.");
        }
        logger.LogWarning("{Problem} Restoring it anyway because --cluster-reset-restore-foreign was given", foreign);
    }

    /// <summary>A path, a name in the snapshot folder, or (with etcd-s3) a name in the S3 folder, downloaded once its token fingerprint checks out.</summary>
    private async Task<(string Path, SnapshotMetadata? Metadata)> ResolveAsync(string restorePath, string snapshotDir, SnapshotToken token, bool restoreForeign,
        S3SnapshotStore? s3, TransferProgress? progress, CancellationToken cancellationToken)
    {
        if (File.Exists(restorePath))
        {
            var full = Path.GetFullPath(restorePath);
            return (full, SnapshotStore.ReadMetadata(full));
        }
        if (!restorePath.Contains('/') && new SnapshotStore(snapshotDir).Find(restorePath) is { } entry)
        {
            return (entry.Path, entry.Metadata);
        }
        if (!restorePath.Contains('/') && s3 is not null && await s3.FindAsync(restorePath, cancellationToken).ConfigureAwait(false) is { } remote)
        {
            RequireOwned(remote.Location, remote.Metadata, token, restoreForeign, "Nothing was downloaded or changed.");
            logger.LogInformation("downloading snapshot {Location} into {Dir}", remote.Location, snapshotDir);
            var downloaded = await s3.DownloadAsync(remote, snapshotDir, progress, cancellationToken).ConfigureAwait(false);
            return (downloaded, SnapshotStore.ReadMetadata(downloaded));
        }
        throw new ResetRefusedException($"--cluster-reset-restore-path {restorePath}: no such file, and no snapshot of that name in {snapshotDir}" +
            (s3 is null ? "" : $" or in {s3.Describe}") + ". Give a path or a name from 'bulwark etcd-snapshot list'.");
    }

    /// <summary>Moves the member dir aside and restores the snapshot into a fresh one with etcdctl. Returns where the old data went.</summary>
    private async Task<string?> RestoreAsync(string snapshot, CancellationToken cancellationToken)
    {
        var paths = node.Paths;
        var etcdctl = ProgramLocator.Require("etcdctl", "Install etcdctl (apt-get install etcd-client) or put it in the runtime bundle's bin folder.", paths.BundleBinDirs());
        AtomicFile.EnsureDirectory(paths.DbDir, AtomicFile.PrivateDirectory);
        var plain = snapshot;
        string? temporary = null;
        if (SnapshotFormat.Of(snapshot) != SnapshotCompression.None)
        {
            temporary = Path.Combine(paths.DbDir, $".restore-{Guid.NewGuid():N}.db");
            await using (var output = new FileStream(temporary, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = AtomicFile.Private }))
            {
                await SnapshotFormat.ReadContentAsync(snapshot, async content =>
                {
                    await content.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
                    return true;
                }).ConfigureAwait(false);
            }
            plain = temporary;
        }
        try
        {
            string? movedTo = null;
            if (Directory.Exists(paths.MemberDir))
            {
                movedTo = Path.Combine(paths.DbDir, "etcd-old-" + DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
                Directory.Move(paths.MemberDir, movedTo);
                logger.LogInformation("moved the old member data to {Dir}", movedTo);
            }
            var name = node.MemberName();
            var spec = new ProcessSpec(etcdctl,
            [
                "snapshot", "restore", plain,
                "--name", name,
                "--data-dir", paths.MemberDir,
                "--initial-cluster", $"{name}={node.PeerUrl}",
                "--initial-advertise-peer-urls", node.PeerUrl,
                "--initial-cluster-token", "bulwark-etcd",
            ])
            {
                Environment = new Dictionary<string, string?> { ["ETCDCTL_API"] = "3" },
                Timeout = TimeSpan.FromMinutes(30),
            };
            try
            {
                await ProcessRunner.RunCheckedAsync(spec, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // Put the old member back so a failed restore leaves the node as it was.
                if (Directory.Exists(paths.MemberDir))
                {
                    Directory.Delete(paths.MemberDir, recursive: true);
                }
                if (movedTo is not null)
                {
                    Directory.Move(movedTo, paths.MemberDir);
                }
                if (e is ProcessFailedException failed)
                {
                    // etcdctl reports a database it cannot read as a Go panic with a goroutine trace: keep that for the log only.
                    logger.LogDebug("etcdctl snapshot restore output: {Output}", failed.Result.StandardError);
                    throw new ResetRefusedException($"snapshot {snapshot} cannot be restored: its checksum is intact but etcd cannot read the database inside it " +
                        $"({RestoreFailure(failed.Result)}). Nothing was changed: the member data is as it was. Pick another snapshot (bulwark etcd-snapshot list).");
                }
                throw;
            }
            File.SetUnixFileMode(paths.MemberDir, AtomicFile.PrivateDirectory);
            logger.LogInformation("restored {Snapshot} into {Dir}", snapshot, paths.MemberDir);
            return movedTo;
        }
        finally
        {
            if (temporary is not null)
            {
                File.Delete(temporary);
            }
        }
    }
}
