using Bulwark.Etcd;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Tests.Etcd;

/// <summary>Snapshots and --cluster-reset(-restore-path) on a real etcd member.</summary>
public sealed class SnapshotRestoreTests : IAsyncLifetime
{
    private EtcdTestNode _etcd = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string SnapshotDir => _etcd.Node.Paths.DefaultSnapshotDir;

    public async ValueTask InitializeAsync()
    {
        _etcd = await EtcdTestNode.CreateAsync("restore-test");
        await _etcd.StartAsync();
    }

    public async ValueTask DisposeAsync() => await _etcd.DisposeAsync();

    private static SnapshotRequest Request(string name = "on-demand", bool compress = false, string token = "secret-1") =>
        new(name, "restore-test", SnapshotMetadata.OnDemandKind, compress, TokenFingerprint.Of(token), "test");

    private async Task<Dictionary<string, string>> AllKeysAsync()
    {
        using var client = _etcd.Client();
        return (await client.GetPrefixAsync("/", Ct)).ToDictionary(k => k.Key.ToStringUtf8(), k => k.Value.ToStringUtf8());
    }

    private static IEnumerable<string> Tree(string dir) =>
        Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Select(p => p[dir.Length..]).Order(StringComparer.Ordinal);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Restore_brings_back_exactly_the_snapshot_state(bool compress)
    {
        using (var client = _etcd.Client())
        {
            for (var i = 0; i < 50; i++)
            {
                await client.PutAsync($"/keep/{i}", $"v{i}", cancellationToken: Ct);
            }
            await client.PutAsync("/changed", "before", cancellationToken: Ct);
        }
        var expected = await AllKeysAsync();
        SnapshotMetadata saved;
        using (var client = _etcd.Client())
        {
            saved = await new SnapshotStore(SnapshotDir).SaveAsync(client, Request(compress: compress), Ct);
            await client.PutAsync("/after/1", "x", cancellationToken: Ct);
            await client.PutAsync("/changed", "after", cancellationToken: Ct);
            await client.DeleteAsync("/keep/7", Ct);
        }
        Assert.NotEqual(expected, await AllKeysAsync());
        await _etcd.StopAsync();

        var outcome = await new ClusterReset(_etcd.Node, NullLogger.Instance).RunAsync(saved.Name, SnapshotDir, new SnapshotToken("secret-1"), restoreForeign: false, Ct);

        Assert.NotNull(outcome.OldDataMovedTo);
        Assert.True(Directory.Exists(Path.Combine(outcome.OldDataMovedTo!, "member", "wal")));
        Assert.True(File.Exists(_etcd.Node.Paths.ResetFlag));
        Assert.DoesNotContain("force-new-cluster: true", await File.ReadAllTextAsync(_etcd.Node.Paths.ConfigFile, Ct), StringComparison.Ordinal);
        await _etcd.StartAsync();
        Assert.Equal(expected, await AllKeysAsync());
        using var after = _etcd.Client();
        Assert.Single((await after.MemberListAsync(Ct)));
        Assert.True((await after.StatusAsync(Ct)).Header.Revision >= saved.Revision);
    }

    [Fact]
    public async Task A_gzip_snapshot_from_an_earlier_bulwark_still_lists_verifies_and_restores()
    {
        using (var client = _etcd.Client())
        {
            await client.PutAsync("/from/gzip", "yes", cancellationToken: Ct);
        }
        var store = new SnapshotStore(SnapshotDir);
        SnapshotMetadata plain;
        using (var client = _etcd.Client())
        {
            plain = await store.SaveAsync(client, Request(), Ct);
        }
        // What Bulwark wrote before snapshots became RKE2's zip: <name>.gz (made here by the real gzip) and metadata naming it.
        var plainPath = Path.Combine(SnapshotDir, plain.File);
        await Processes.ProcessRunner.RunCheckedAsync(new Processes.ProcessSpec("gzip", ["-n", plainPath]), Ct);
        File.Delete(SnapshotStore.MetadataPathOf(plainPath));
        var gz = plainPath + ".gz";
        var bytes = await File.ReadAllBytesAsync(gz, Ct);
        File.WriteAllText(SnapshotStore.MetadataPathOf(gz), System.Text.Json.JsonSerializer.Serialize(plain with
        {
            File = plain.File + ".gz", Compressed = true, Size = bytes.Length, Sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)),
        }, SnapshotJsonContext.Default.SnapshotMetadata));
        using (var client = _etcd.Client())
        {
            await client.PutAsync("/from/gzip", "changed", cancellationToken: Ct);
        }
        Assert.Equal(plain.Name, Assert.Single(store.List()).Name);
        Assert.Null(await SnapshotVerifier.ProblemAsync(gz, SnapshotStore.ReadMetadata(gz), Ct));
        await _etcd.StopAsync();

        await new ClusterReset(_etcd.Node, NullLogger.Instance).RunAsync(plain.Name, SnapshotDir, new SnapshotToken("secret-1"), restoreForeign: false, Ct);

        await _etcd.StartAsync();
        Assert.Equal("yes", (await AllKeysAsync())["/from/gzip"]);
    }

    [Fact]
    public async Task A_zip_holding_more_than_one_entry_is_refused_and_nothing_moves()
    {
        SnapshotMetadata saved;
        using (var client = _etcd.Client())
        {
            saved = await new SnapshotStore(SnapshotDir).SaveAsync(client, Request(compress: true), Ct);
        }
        await _etcd.StopAsync();
        var file = Path.Combine(SnapshotDir, saved.File);
        File.Delete(SnapshotStore.MetadataPathOf(file));
        // A second entry appended by python's zipfile.
        var extra = _etcd.Dir.Write("extra.txt", "not a snapshot");
        await Processes.ProcessRunner.RunCheckedAsync(new Processes.ProcessSpec("python3",
            ["-c", "import sys, zipfile\nzipfile.ZipFile(sys.argv[1], 'a').write(sys.argv[2], 'extra.txt')", file, extra]), Ct);
        var before = Tree(_etcd.Node.Paths.DbDir).ToList();

        var error = await Assert.ThrowsAsync<ResetRefusedException>(() =>
            new ClusterReset(_etcd.Node, NullLogger.Instance).RunAsync(file, SnapshotDir, new SnapshotToken("secret-1"), restoreForeign: true, Ct));

        Assert.Contains("the archive holds 2 entries where a compressed snapshot holds exactly one", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, Tree(_etcd.Node.Paths.DbDir));
    }

    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    [InlineData("flip-no-metadata")]
    [InlineData("truncate-zip")]
    public async Task A_corrupted_or_truncated_snapshot_is_refused_and_nothing_moves(string damage)
    {
        SnapshotMetadata saved;
        using (var client = _etcd.Client())
        {
            await client.PutAsync("/x", "1", cancellationToken: Ct);
            saved = await new SnapshotStore(SnapshotDir).SaveAsync(client, Request(compress: damage.EndsWith("zip", StringComparison.Ordinal)), Ct);
        }
        await _etcd.StopAsync();
        var file = Path.Combine(SnapshotDir, saved.File);
        var bytes = await File.ReadAllBytesAsync(file, Ct);
        if (damage.StartsWith("flip", StringComparison.Ordinal))
        {
            bytes[bytes.Length / 2] ^= 0x01;
        }
        else
        {
            bytes = bytes[..(bytes.Length - 700)];
        }
        await File.WriteAllBytesAsync(file, bytes, Ct);
        if (damage == "flip-no-metadata")
        {
            File.Delete(SnapshotStore.MetadataPathOf(file));
        }
        var before = Tree(_etcd.Node.Paths.DbDir).ToList();

        var error = await Assert.ThrowsAsync<ResetRefusedException>(() =>
            new ClusterReset(_etcd.Node, NullLogger.Instance).RunAsync(file, SnapshotDir, new SnapshotToken("secret-1"), restoreForeign: false, Ct));

        Assert.Contains("Nothing was changed", error.Message, StringComparison.Ordinal);
        Assert.Matches("corrupted|truncated", error.Message);
        Assert.Equal(before, Tree(_etcd.Node.Paths.DbDir));
        Assert.False(File.Exists(_etcd.Node.Paths.ResetFlag));
    }

    [Fact]
    public async Task A_foreign_snapshot_with_an_intact_checksum_but_a_database_etcd_cannot_read_is_refused_without_etcdctls_panic_and_nothing_moves()
    {
        using (var client = _etcd.Client())
        {
            await client.PutAsync("/kept", "yes", cancellationToken: Ct);
        }
        await _etcd.StopAsync();
        // etcd's trailer (SHA-256 of the content) is right, so only etcdctl finds out that the content is no bbolt database.
        var content = System.Security.Cryptography.RandomNumberGenerator.GetBytes(64 * 1024);
        var file = _etcd.Dir.Combine("foreign.db");
        await File.WriteAllBytesAsync(file, [.. content, .. System.Security.Cryptography.SHA256.HashData(content)], Ct);
        var before = Tree(_etcd.Node.Paths.DbDir).ToList();

        var error = await Assert.ThrowsAsync<ResetRefusedException>(() =>
            new ClusterReset(_etcd.Node, NullLogger.Instance).RunAsync(file, SnapshotDir, new SnapshotToken("secret-1"), restoreForeign: true, Ct));

        Assert.Equal($"snapshot {file} cannot be restored: its checksum is intact but etcd cannot read the database inside it (cannot open database (invalid database)). " +
            "Nothing was changed: the member data is as it was. Pick another snapshot (bulwark etcd-snapshot list).", error.Message);
        Assert.Equal(before, Tree(_etcd.Node.Paths.DbDir));
        Assert.False(File.Exists(_etcd.Node.Paths.ResetFlag));
        await _etcd.StartAsync();
        Assert.Equal("yes", (await AllKeysAsync())["/kept"]);
    }

    [Fact]
    public async Task A_snapshot_taken_under_another_token_is_refused_with_a_clear_message()
    {
        SnapshotMetadata saved;
        using (var client = _etcd.Client())
        {
            saved = await new SnapshotStore(SnapshotDir).SaveAsync(client, Request(token: "K10abc::server:old-secret"), Ct);
        }
        await _etcd.StopAsync();
        var reset = new ClusterReset(_etcd.Node, NullLogger.Instance);

        var error = await Assert.ThrowsAsync<ResetRefusedException>(() => reset.RunAsync(saved.Name, SnapshotDir, new SnapshotToken("new-secret"), restoreForeign: false, Ct));
        Assert.Contains("different cluster token", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.EnumerateDirectories(_etcd.Node.Paths.DbDir, "etcd-old-*").Any());

        // The short form of the same secret matches the full K10 form.
        await reset.RunAsync(saved.Name, SnapshotDir, new SnapshotToken("old-secret"), restoreForeign: false, Ct);
    }

    [Theory]
    [InlineData("no-metadata")]
    [InlineData("no-token-fingerprint")]
    public async Task A_snapshot_that_cannot_be_proven_to_be_this_clusters_is_refused_before_anything_moves_unless_restore_foreign_is_given(string missing)
    {
        using (var client = _etcd.Client())
        {
            await client.PutAsync("/ours", "1", Ct);
        }
        // Another cluster's snapshot, taken under another token: its metadata then goes missing or loses the fingerprint.
        await using var other = await EtcdTestNode.CreateAsync("foreign");
        await other.StartAsync();
        SnapshotMetadata saved;
        using (var client = other.Client())
        {
            await client.PutAsync("/theirs", "1", Ct);
            saved = await new SnapshotStore(SnapshotDir).SaveAsync(client, Request(token: "someone-elses-secret"), Ct);
        }
        var file = Path.Combine(SnapshotDir, saved.File);
        if (missing == "no-metadata")
        {
            File.Delete(SnapshotStore.MetadataPathOf(file));
        }
        else
        {
            File.WriteAllText(SnapshotStore.MetadataPathOf(file), System.Text.Json.JsonSerializer.Serialize(saved with { TokenHash = "" }, SnapshotJsonContext.Default.SnapshotMetadata));
        }
        await _etcd.StopAsync();
        var before = Directory.EnumerateFileSystemEntries(_etcd.Node.Paths.MemberDir, "*", SearchOption.AllDirectories).Order().ToList();
        var reset = new ClusterReset(_etcd.Node, NullLogger.Instance);

        var error = await Assert.ThrowsAsync<ResetRefusedException>(() => reset.RunAsync(file, SnapshotDir, new SnapshotToken("secret-1"), restoreForeign: false, Ct));
        Assert.Contains("nothing proves it belongs to this cluster", error.Message, StringComparison.Ordinal);
        Assert.Contains("--cluster-reset-restore-foreign", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, Directory.EnumerateFileSystemEntries(_etcd.Node.Paths.MemberDir, "*", SearchOption.AllDirectories).Order().ToList());
        Assert.False(Directory.EnumerateDirectories(_etcd.Node.Paths.DbDir, "etcd-old-*").Any());
        Assert.False(File.Exists(_etcd.Node.Paths.ResetFlag));

        // The explicit override restores it, and the node then serves the other cluster's keys.
        await reset.RunAsync(file, SnapshotDir, new SnapshotToken("secret-1"), restoreForeign: true, Ct);
        await _etcd.StartAsync();
        Assert.Equal(["/theirs"], (await AllKeysAsync()).Keys);
    }

    [Fact]
    public async Task Token_fingerprints_are_salted_per_snapshot_and_never_hold_the_secret()
    {
        SnapshotMetadata first, second;
        using (var client = _etcd.Client())
        {
            first = await new SnapshotStore(SnapshotDir).SaveAsync(client, Request(token: "weak"), Ct);
            second = await new SnapshotStore(SnapshotDir).SaveAsync(client, Request(token: "weak"), Ct);
        }
        Assert.StartsWith("hmac-sha256:", first.TokenHash, StringComparison.Ordinal);
        Assert.NotEqual(first.TokenHash, second.TokenHash);
        Assert.True(TokenFingerprint.Matches(first.TokenHash, "weak") && TokenFingerprint.Matches(second.TokenHash, "K10ff::server:weak"));
        Assert.False(TokenFingerprint.Matches(first.TokenHash, "weak2"));
        // The old unsalted form of the same token is not what is stored.
        Assert.NotEqual("sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("bulwark-snapshot-token\nweak"u8)), first.TokenHash);
    }

    [Fact]
    public async Task Prune_removes_unverified_snapshots_beyond_the_retention_too()
    {
        var store = new SnapshotStore(SnapshotDir);
        using (var client = _etcd.Client())
        {
            var old = await store.SaveAsync(client, Request(name: "etcd-snapshot") with { Kind = SnapshotMetadata.ScheduledKind }, Ct);
            File.Delete(SnapshotStore.MetadataPathOf(Path.Combine(SnapshotDir, old.File)));
            File.SetLastWriteTimeUtc(Path.Combine(SnapshotDir, old.File), DateTime.UtcNow.AddHours(-1));
            await store.SaveAsync(client, Request(name: "etcd-snapshot") with { Kind = SnapshotMetadata.ScheduledKind }, Ct);
        }
        Assert.Equal(2, store.List().Count);
        Assert.Single(store.Prune("etcd-snapshot", SnapshotMetadata.ScheduledKind, 1));
        Assert.True(Assert.Single(store.List()).HasMetadata);
    }

    [Fact]
    public async Task Cluster_reset_keeps_data_and_a_second_reset_is_refused_until_a_normal_start()
    {
        using (var client = _etcd.Client())
        {
            await client.PutAsync("/survives", "yes", cancellationToken: Ct);
        }
        await _etcd.StopAsync();
        var reset = new ClusterReset(_etcd.Node, NullLogger.Instance);

        var outcome = await reset.RunAsync(null, SnapshotDir, SnapshotToken.None, restoreForeign: false, Ct);
        Assert.Contains(outcome.Guidance, g => g.Contains("without --cluster-reset", StringComparison.Ordinal));
        var again = await Assert.ThrowsAsync<ResetRefusedException>(() => reset.RunAsync(null, SnapshotDir, SnapshotToken.None, restoreForeign: false, Ct));
        Assert.Contains(_etcd.Node.Paths.ResetFlag, again.Message, StringComparison.Ordinal);

        await _etcd.StartAsync();
        Assert.Equal("yes", (await AllKeysAsync())["/survives"]);
    }

    [Fact]
    public async Task Cancelling_a_snapshot_midway_leaves_nothing_that_list_shows()
    {
        using var client = _etcd.Client();
        var value = new string('v', 100_000);
        for (var i = 0; i < 300; i++)
        {
            await client.PutAsync($"/big/{i}", value, cancellationToken: Ct);
        }
        var store = new SnapshotStore(SnapshotDir);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var save = store.SaveAsync(client, Request(), cancel.Token);
        // Cancel as soon as the hidden .part file exists, i.e. while the stream is being written.
        while (!save.IsCompleted && !(Directory.Exists(SnapshotDir) && Directory.EnumerateFiles(SnapshotDir, ".*.part").Any()))
        {
            await Task.Delay(1, Ct);
        }
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => save);
        Assert.Empty(store.List());
        Assert.Empty(Directory.EnumerateFiles(SnapshotDir, "*", SearchOption.AllDirectories));
        var next = await store.SaveAsync(client, Request(), Ct);
        Assert.Equal(next.Name, store.List().Single().Name);
    }

    [Fact]
    public async Task A_full_snapshot_folder_gives_a_clear_error_and_etcd_keeps_serving()
    {
        using var client = _etcd.Client();
        var value = new string('v', 100_000);
        for (var i = 0; i < 20; i++)
        {
            await client.PutAsync($"/fill/{i}", value, cancellationToken: Ct);
        }
        var full = _etcd.Dir.Combine("tiny");
        Directory.CreateDirectory(full);
        await Processes.ProcessRunner.RunCheckedAsync(new Processes.ProcessSpec("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", full]), Ct);
        try
        {
            var store = new SnapshotStore(full);
            var error = await Assert.ThrowsAsync<SnapshotException>(() => store.SaveAsync(client, Request(), Ct));

            Assert.Contains("Nothing was kept", error.Message, StringComparison.Ordinal);
            Assert.Empty(Directory.EnumerateFiles(full));
            Assert.True(await _etcd.Member!.IsHealthyAsync(Ct));
            await client.PutAsync("/still-writable", "yes", cancellationToken: Ct);
        }
        finally
        {
            await Processes.ProcessRunner.RunAsync(new Processes.ProcessSpec("umount", [full]), CancellationToken.None);
        }
    }

    [Fact]
    public async Task The_scheduler_survives_an_unwritable_snapshot_folder_and_prunes_only_scheduled_snapshots()
    {
        var blocked = _etcd.Dir.Write("not-a-dir", "a file where the snapshot folder should be");
        var logger = new FakeLogger();
        var failing = new SnapshotScheduler(CronSchedule.Parse("* * * * *"), 2, new SnapshotStore(Path.Combine(blocked, "snapshots")), _etcd.Client,
            () => Request("etcd-snapshot") with { Kind = SnapshotMetadata.ScheduledKind }, logger);

        Assert.False(await failing.RunOnceAsync(Ct));
        Assert.Contains(logger.Collector.GetSnapshot(), l => l.Message.Contains("cannot use snapshot folder", StringComparison.Ordinal) && l.Message.Contains("server keeps running", StringComparison.Ordinal));
        Assert.True(await _etcd.Member!.IsHealthyAsync(Ct));

        var store = new SnapshotStore(SnapshotDir, new FakeTimeProvider(DateTimeOffset.UtcNow) { AutoAdvanceAmount = TimeSpan.FromSeconds(1) });
        using (var client = _etcd.Client())
        {
            await store.SaveAsync(client, Request("etcd-snapshot"), Ct); // on-demand kind with the scheduled base name: never pruned by the schedule
        }
        var scheduler = new SnapshotScheduler(CronSchedule.Parse("* * * * *"), 2, store, _etcd.Client,
            () => Request("etcd-snapshot") with { Kind = SnapshotMetadata.ScheduledKind }, logger);
        for (var i = 0; i < 4; i++)
        {
            Assert.True(await scheduler.RunOnceAsync(Ct));
        }
        var kinds = store.List().Select(e => e.Metadata!.Kind).ToList();
        Assert.Equal(2, kinds.Count(k => k == SnapshotMetadata.ScheduledKind));
        Assert.Equal(1, kinds.Count(k => k == SnapshotMetadata.OnDemandKind));
    }
}
