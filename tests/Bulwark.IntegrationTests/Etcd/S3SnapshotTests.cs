using System.Globalization;
using System.Text;
using System.Text.Json;
using Bulwark.Etcd;
using Bulwark.Processes;
using Bulwark.Tests.Server;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Tests.Etcd;

/// <summary>
/// Snapshots off-site and RKE2-compatible: real <c>bulwark server</c> and <c>bulwark etcd-snapshot</c> runs against a real
/// S3-protocol server (s3rver from npm on 127.0.0.1, named in each test), real etcd, and real unzip, python zipfile and
/// etcdctl to read what Bulwark wrote.
/// </summary>
public sealed class S3SnapshotTests : IAsyncLifetime
{
    private const string Token = "s3-test-secret";
    private const string Folder = "cluster-a/etcd";
    private readonly TempDirectory _dir = new("bulwark-s3-snapshots");
    private int[] _ports = [];
    private S3rver _s3 = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string DataDir => _dir.Combine("data");

    private string S3Config => _dir.Combine("etc", "s3.yaml");

    private string PlainConfig => _dir.Combine("etc", "plain.yaml");

    private string P(int i) => _ports[i].ToString(CultureInfo.InvariantCulture);

    private string[] ServerArgs(string config, string token, params string[] extra) => ServerArgs("srv", config, token, extra);

    private string[] ServerArgs(string node, string config, string token, params string[] extra) =>
    [
        "--node-ip", "127.0.0.1", "--single-host-demo", "--node-name", node, "--token", token,
        "--etcd-client-port", P(0), "--etcd-peer-port", P(1), "--etcd-metrics-port", P(2), "--supervisor-port", P(3),
        "--disable-apiserver", "--disable-controller-manager", "--disable-scheduler",
        "--config", config,
        .. extra,
    ];

    private string[] SnapshotArgs(string config, string verb, params string[] extra) =>
        ["etcd-snapshot", verb, "--config", config, "--data-dir", DataDir, "--node-name", "srv", "--etcd-client-port", P(0), .. extra];

    private string SnapshotDir => new EtcdPaths(DataDir).DefaultSnapshotDir;

    private EtcdClient Client() => new(new EtcdClientOptions([new Uri($"https://127.0.0.1:{_ports[0]}")], new EtcdPaths(DataDir).ClientTls));

    public async ValueTask InitializeAsync()
    {
        _ports = FreePorts.Take(4);
        _s3 = await S3rver.StartAsync();
        _dir.Write("etc/plain.yaml", "# snapshots stay local\n");
        _dir.Write("etc/s3.yaml", S3Yaml());
    }

    private string S3Yaml(string folder = Folder, string credentials = $"etcd-s3-access-key: {S3rver.AccessKey}\netcd-s3-secret-key: {S3rver.SecretKey}\n") =>
        $"""
        etcd-s3: true
        etcd-s3-endpoint: {_s3.Endpoint}
        etcd-s3-insecure: true
        etcd-s3-bucket: {_s3.Bucket}
        etcd-s3-folder: {folder}
        etcd-s3-retention: 2
        etcd-s3-timeout: 1m0s

        """ + credentials;

    public async ValueTask DisposeAsync()
    {
        await _s3.DisposeAsync();
        _dir.Dispose();
    }

    private async Task<ServerProcess> StartServerAsync(string dataDir, string node = "srv")
    {
        var server = ServerProcess.Start(dataDir, ServerArgs(node, S3Config, Token));
        await server.WaitForLineAsync("[ready]");
        return server;
    }

    private static async Task StopAsync(ServerProcess server)
    {
        server.Signal(Signals.SigTerm);
        Assert.Equal(0, await server.WaitForExitAsync());
    }

    [Fact]
    public async Task A_compressed_snapshot_is_rke2s_zip_with_one_entry_and_is_uploaded_with_its_token_hash_as_object_metadata_against_s3rver()
    {
        await using var server = await StartServerAsync(DataDir);
        using (var client = Client())
        {
            await client.PutAsync("/zip/check", "yes", cancellationToken: Ct);
        }

        var save = await CliRunner.RunAsync(SnapshotArgs(S3Config, "save", "--name", "pre", "--compress"));

        Assert.True(save.ExitCode == 0, save.Error);
        var local = Assert.Single(new SnapshotStore(SnapshotDir).List());
        var file = Path.GetFileName(local.Path);
        Assert.Equal(local.Name + ".zip", file);
        var key = $"{Folder}/{file}";
        Assert.Contains($"uploaded to s3://{_s3.Bucket}/{key}", save.Out, StringComparison.Ordinal);
        Assert.Equal([key], _s3.Keys());
        Assert.Equal(await File.ReadAllBytesAsync(local.Path, Ct), _s3.ObjectBytes(key));
        var headers = _s3.ObjectHeaders(key);
        Assert.Equal("application/zip", headers["content-type"]);
        var tokenHash = headers["x-amz-meta-bulwark-token-hash"];
        Assert.True(TokenFingerprint.Matches(tokenHash, Token), tokenHash);
        Assert.DoesNotContain(Token, string.Join('\n', headers.Values), StringComparison.Ordinal);
        var stored = JsonSerializer.Deserialize(Encoding.UTF8.GetString(Convert.FromBase64String(headers["x-amz-meta-bulwark-metadata"])), SnapshotJsonContext.Default.SnapshotMetadata)!;
        Assert.Equal(local.Metadata!.Sha256, stored.Sha256);
        Assert.Equal("srv", headers["x-amz-meta-bulwark-node-name"]);

        // What RKE2's tooling sees: one entry named as the snapshot, deflated (real unzip and python zipfile).
        var unzip = await ProcessRunner.RunCheckedAsync(new ProcessSpec("unzip", ["-Z", "-l", local.Path]), Ct);
        Assert.Contains("1 file", unzip.StandardOutput, StringComparison.Ordinal);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(unzip.StandardOutput, $"-rw------- .* def[NXFS] .* {local.Name}\n"), unzip.StandardOutput);
        var extracted = _dir.Combine("extracted");
        var python = await ProcessRunner.RunCheckedAsync(new ProcessSpec("python3",
            ["-c", "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nprint('\\n'.join(z.namelist()))\nz.extractall(sys.argv[2])", local.Path, extracted]), Ct);
        Assert.Equal(local.Name, python.StandardOutput.Trim());
        // The entry is an etcd snapshot etcdctl reads (its hash and revision check out).
        var status = await ProcessRunner.RunCheckedAsync(new ProcessSpec("etcdctl", ["snapshot", "status", Path.Combine(extracted, local.Name), "-w", "json"])
        {
            Environment = new Dictionary<string, string?> { ["ETCDCTL_API"] = "3" },
        }, Ct);
        Assert.True(JsonDocument.Parse(status.StandardOutput).RootElement.GetProperty("revision").GetInt64() >= local.Metadata.Revision);
        await StopAsync(server);
    }

    [Fact]
    public async Task List_merges_local_and_s3_snapshots_delete_and_prune_work_in_both_places_against_s3rver()
    {
        await using var server = await StartServerAsync(DataDir);
        Assert.Equal(0, (await CliRunner.RunAsync(SnapshotArgs(PlainConfig, "save", "--name", "local-only"))).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync(SnapshotArgs(S3Config, "save", "--name", "off-site"))).ExitCode);
        var store = new SnapshotStore(SnapshotDir);
        var offSite = store.List().Single(e => e.Name.StartsWith("off-site-", StringComparison.Ordinal));
        // Lost locally (the disk died): the copy in S3 is still listed, with its location.
        store.Delete(offSite.Name);

        var list = await CliRunner.RunAsync(SnapshotArgs(S3Config, "list"));

        Assert.True(list.ExitCode == 0, list.Error);
        Assert.Contains("LOCATION", list.Out, StringComparison.Ordinal);
        Assert.Contains($"s3://{_s3.Bucket}/{Folder}/{offSite.Name}", list.Out, StringComparison.Ordinal);
        Assert.Matches($"local-only-srv-\\d+ .* file://{SnapshotDir}/local-only-srv-\\d+", list.Out);
        var json = await CliRunner.RunAsync(SnapshotArgs(S3Config, "list", "--output", "json"));
        var rows = JsonDocument.Parse(json.Out).RootElement.EnumerateArray()
            .Select(e => (Name: e.GetProperty("name").GetString()!, Location: e.GetProperty("location").GetString()!, Kind: e.GetProperty("metadata").GetProperty("kind").GetString()))
            .ToList();
        Assert.Equal(2, rows.Count);
        Assert.Contains((offSite.Name, $"s3://{_s3.Bucket}/{Folder}/{offSite.Name}", SnapshotMetadata.OnDemandKind), rows);
        Assert.Single(rows, r => r.Location.StartsWith("file://", StringComparison.Ordinal));

        var delete = await CliRunner.RunAsync(SnapshotArgs(S3Config, "delete", offSite.Name));
        Assert.True(delete.ExitCode == 0, delete.Error);
        Assert.Contains($"deleted {offSite.Name} (S3)", delete.Out, StringComparison.Ordinal);
        Assert.Empty(_s3.Keys());

        // Prune: locally by --snapshot-retention, in the S3 folder by etcd-s3-retention (2), oldest first.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(0, (await CliRunner.RunAsync(SnapshotArgs(S3Config, "save", "--name", "pre"))).ExitCode);
            await Task.Delay(1100, Ct); // names carry the second
        }
        var uploaded = _s3.Keys();
        Assert.Equal(3, uploaded.Count);
        var prune = await CliRunner.RunAsync(SnapshotArgs(S3Config, "prune", "--name", "pre", "--snapshot-retention", "1"));
        Assert.True(prune.ExitCode == 0, prune.Error);
        Assert.Contains("2 snapshot(s) pruned; kept the newest 1", prune.Out, StringComparison.Ordinal);
        Assert.Contains("1 snapshot(s) pruned in s3://", prune.Out, StringComparison.Ordinal);
        Assert.Equal(uploaded.Skip(1), _s3.Keys());
        await StopAsync(server);
    }

    [Fact]
    public async Task Restore_by_name_fetches_from_s3rver_onto_a_fresh_data_dir_and_refuses_another_clusters_token_before_downloading()
    {
        Dictionary<string, string> expected;
        string name;
        await using (var first = await StartServerAsync(DataDir))
        {
            using var client = Client();
            await client.PutAsync("/a", "1", cancellationToken: Ct);
            await client.PutAsync("/c", "kept", cancellationToken: Ct);
            expected = (await client.GetPrefixAsync("/", Ct)).ToDictionary(k => k.Key.ToStringUtf8(), k => k.Value.ToStringUtf8());
            var save = await CliRunner.RunAsync(SnapshotArgs(S3Config, "save", "--name", "pre", "--compress"));
            Assert.True(save.ExitCode == 0, save.Error);
            name = new SnapshotStore(SnapshotDir).List().Single().Name;
            await client.PutAsync("/a", "2", cancellationToken: Ct);
            await StopAsync(first);
        }
        // A new host (another node name: the old node's password is registered in the restored data): nothing local, only the bucket.
        var fresh = _dir.Combine("fresh");
        var freshSnapshots = new EtcdPaths(fresh).DefaultSnapshotDir;
        var other = _dir.Combine("other-cluster");

        await using (var foreign = ServerProcess.Start(other, ServerArgs("new-host", S3Config, "another-clusters-secret", "--cluster-reset", "--cluster-reset-restore-path", name)))
        {
            Assert.Equal(1, await foreign.WaitForExitAsync());
            Assert.Contains($"snapshot s3://{_s3.Bucket}/{Folder}/{name}.zip was taken under a different cluster token", foreign.Output, StringComparison.Ordinal);
            Assert.Contains("Nothing was downloaded or changed", foreign.Output, StringComparison.Ordinal);
            var otherSnapshots = new EtcdPaths(other).DefaultSnapshotDir;
            Assert.False(Directory.Exists(otherSnapshots) && Directory.EnumerateFileSystemEntries(otherSnapshots).Any());
            Assert.False(Directory.Exists(new EtcdPaths(other).MemberDir));
        }

        await using (var restore = ServerProcess.Start(fresh, ServerArgs("new-host", S3Config, Token, "--cluster-reset", "--cluster-reset-restore-path", name)))
        {
            Assert.True(await restore.WaitForExitAsync() == 0, restore.Output);
            Assert.Contains($"restored from {freshSnapshots}/{name}.zip", restore.Output, StringComparison.Ordinal);
        }
        Assert.True(File.Exists(SnapshotStore.MetadataPathOf(Path.Combine(freshSnapshots, name + ".zip"))));
        await using var after = await StartServerAsync(fresh, "new-host");
        using var check = new EtcdClient(new EtcdClientOptions([new Uri($"https://127.0.0.1:{_ports[0]}")], new EtcdPaths(fresh).ClientTls));
        // The snapshot's state, plus the new host's own node password registered since.
        var restored = (await check.GetPrefixAsync("/", Ct)).ToDictionary(k => k.Key.ToStringUtf8(), k => k.Value.ToStringUtf8());
        Assert.True(restored.Remove("/bulwark/node-passwords/new-host"));
        Assert.Equal(expected, restored);
        await StopAsync(after);
    }

    [Fact]
    public async Task Scheduled_snapshots_upload_and_s3_retention_prunes_only_their_folder_against_s3rver()
    {
        await using var etcd = await EtcdTestNode.CreateAsync("s3-sched");
        await etcd.StartAsync();
        var settings = S3Settings.FromConfig(ConfigFrom(S3Yaml()), new Dictionary<string, string>())!;
        using var s3 = new S3SnapshotStore(settings);
        using var otherFolder = new S3SnapshotStore(settings with { Folder = "cluster-b/etcd" });
        var store = new SnapshotStore(etcd.Node.Paths.DefaultSnapshotDir, new FakeTimeProvider(DateTimeOffset.UtcNow) { AutoAdvanceAmount = TimeSpan.FromSeconds(1) });
        SnapshotRequest Request() => new("etcd-snapshot", "s3-sched", SnapshotMetadata.ScheduledKind, true, TokenFingerprint.Of(Token), "test");
        using (var client = etcd.Client())
        {
            var elsewhere = await store.SaveAsync(client, Request(), Ct);
            await otherFolder.UploadAsync(Path.Combine(store.Directory, elsewhere.File), elsewhere, null, Ct);
        }
        var logger = new FakeLogger();
        var scheduler = new SnapshotScheduler(CronSchedule.Parse("* * * * *"), 5, store, etcd.Client, Request, logger, s3: s3);

        for (var i = 0; i < 4; i++)
        {
            Assert.True(await scheduler.RunOnceAsync(Ct));
        }

        Assert.Equal(0, scheduler.UploadsFailed);
        var newest = store.List().Take(2).Select(e => $"{Folder}/{Path.GetFileName(e.Path)}").Order(StringComparer.Ordinal);
        Assert.Equal(newest, _s3.Keys(Folder + "/"));
        Assert.Single(_s3.Keys("cluster-b/"));
        Assert.Equal(2, logger.Collector.GetSnapshot().Count(l => l.Message.Contains("from S3 (etcd-s3-retention 2)", StringComparison.Ordinal)));
        Assert.Equal(5, store.List().Count);
    }

    [Fact]
    public async Task S3_failures_at_run_time_are_clear_and_never_show_the_secret_key_against_s3rver()
    {
        // s3rver knows one key pair and does not check SigV4 signatures, so an unknown access key is what it refuses.
        const string wrongSecret = "not-the-secret-0123456789";
        _dir.Write("etc/wrong-key.yaml", S3Yaml(credentials: $"etcd-s3-access-key: nobody\netcd-s3-secret-key: {wrongSecret}\n"));
        var refused = await CliRunner.RunAsync(SnapshotArgs(_dir.Combine("etc", "wrong-key.yaml"), "list"));
        Assert.Equal(3, refused.ExitCode);
        Assert.Contains("InvalidAccessKeyId: the endpoint refused access key nobody, secret key hidden", refused.Error, StringComparison.Ordinal);
        Assert.Contains("check etcd-s3-access-key and etcd-s3-secret-key", refused.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongSecret, refused.Out + refused.Error, StringComparison.Ordinal);

        _dir.Write("etc/no-bucket.yaml", S3Yaml().Replace($"etcd-s3-bucket: {_s3.Bucket}", "etcd-s3-bucket: no-such-bucket", StringComparison.Ordinal));
        var missing = await CliRunner.RunAsync(SnapshotArgs(_dir.Combine("etc", "no-bucket.yaml"), "list"));
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("bucket no-such-bucket does not exist; create it or fix etcd-s3-bucket", missing.Error, StringComparison.Ordinal);

        // The key pair from the environment, as RKE2 takes it.
        _dir.Write("etc/env-credentials.yaml", S3Yaml(credentials: ""));
        var fromEnvironment = await CliRunner.RunAsync(new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = S3rver.AccessKey, ["AWS_SECRET_ACCESS_KEY"] = S3rver.SecretKey },
            SnapshotArgs(_dir.Combine("etc", "env-credentials.yaml"), "list"));
        Assert.True(fromEnvironment.ExitCode == 0, fromEnvironment.Error);
        Assert.Contains($"No snapshots in {SnapshotDir} and s3://{_s3.Bucket}/{Folder}/", fromEnvironment.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Etcd_s3_endpoint_ca_is_the_only_trust_for_an_https_s3rver_and_skip_ssl_verify_turns_it_off()
    {
        // Certificates by the real openssl: the serving cert (SAN IP:127.0.0.1) chains to server-ca, not to peer-ca.
        var certs = _dir.Combine("certs");
        await OpenSslEtcdCerts.CreateAsync(certs, Ct);
        var tls = Path.Combine(certs, "server", "tls", "etcd");
        await using var https = await S3rver.StartAsync("tls-bucket", (Path.Combine(tls, "server-client.crt"), Path.Combine(tls, "server-client.key")));
        string Config(string name, string trust) => _dir.Write($"etc/{name}.yaml", $"""
            etcd-s3: true
            etcd-s3-endpoint: {https.Endpoint}
            etcd-s3-bucket: tls-bucket
            etcd-s3-access-key: {S3rver.AccessKey}
            etcd-s3-secret-key: {S3rver.SecretKey}
            {trust}

            """);

        var trusted = await CliRunner.RunAsync(SnapshotArgs(Config("right-ca", $"etcd-s3-endpoint-ca: {Path.Combine(tls, "server-ca.crt")}"), "list"));
        Assert.True(trusted.ExitCode == 0, trusted.Error);
        Assert.Contains("No snapshots in", trusted.Out, StringComparison.Ordinal);

        var wrongCa = await CliRunner.RunAsync(SnapshotArgs(Config("wrong-ca", $"etcd-s3-endpoint-ca: {Path.Combine(tls, "peer-ca.crt")}"), "list"));
        Assert.Equal(3, wrongCa.ExitCode);
        Assert.Contains($"at https://{https.Endpoint} failed", wrongCa.Error, StringComparison.Ordinal);
        Assert.Contains("Check etcd-s3-endpoint, etcd-s3-insecure and the endpoint's TLS settings", wrongCa.Error, StringComparison.Ordinal);

        var systemTrust = await CliRunner.RunAsync(SnapshotArgs(Config("system-trust", ""), "list"));
        Assert.Equal(3, systemTrust.ExitCode);

        var skipped = await CliRunner.RunAsync(SnapshotArgs(Config("skip-verify", "etcd-s3-skip-ssl-verify: true"), "list"));
        Assert.True(skipped.ExitCode == 0, skipped.Error);
    }

    [Fact]
    public async Task Contradictory_or_incomplete_s3_settings_are_configuration_errors_with_file_and_line()
    {
        var ca = _dir.Write("etc/ca.pem", "not a certificate\n");
        var config = _dir.Write("etc/bad.yaml", $"""
            etcd-s3: true
            etcd-s3-endpoint: http://{_s3.Endpoint}
            etcd-s3-insecure: true
            etcd-s3-endpoint-ca: {ca}
            etcd-s3-access-key: only-half
            etcd-s3-proxy: proxy.example:3128

            """);

        var result = await CliRunner.RunAsync(SnapshotArgs(config, "list"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{config}:2", result.Error, StringComparison.Ordinal);
        Assert.Contains($"takes host[:port] without a scheme, e.g. {_s3.Endpoint}", result.Error, StringComparison.Ordinal);
        Assert.Contains($"{config}:6", result.Error, StringComparison.Ordinal);
        Assert.Contains("expected a proxy URL with scheme and host", result.Error, StringComparison.Ordinal);

        // With the per-value errors fixed, the checks across keys speak: bucket, insecure + CA, half a key pair, the CA file.
        _dir.Write("etc/bad.yaml", $"""
            etcd-s3: true
            etcd-s3-endpoint: {_s3.Endpoint}
            etcd-s3-insecure: true
            etcd-s3-endpoint-ca: {ca}
            etcd-s3-access-key: only-half

            """);
        var crossKey = await CliRunner.RunAsync(SnapshotArgs(config, "list"));
        Assert.Equal(2, crossKey.ExitCode);
        Assert.Contains($"{config}:1", crossKey.Error, StringComparison.Ordinal);
        Assert.Contains("no etcd-s3-bucket is set", crossKey.Error, StringComparison.Ordinal);
        Assert.Contains($"{config}:3", crossKey.Error, StringComparison.Ordinal);
        Assert.Contains("etcd-s3-insecure (plain http) cannot go with etcd-s3-endpoint-ca", crossKey.Error, StringComparison.Ordinal);
        Assert.Contains($"{config}:4", crossKey.Error, StringComparison.Ordinal);
        Assert.Contains("holds no PEM certificate", crossKey.Error, StringComparison.Ordinal);
        Assert.Contains($"{config}:5", crossKey.Error, StringComparison.Ordinal);
        Assert.Contains("etcd-s3-access-key is set but etcd-s3-secret-key is not", crossKey.Error, StringComparison.Ordinal);
        Assert.Empty(_s3.Keys());
    }

    private Bulwark.Config.EffectiveConfig ConfigFrom(string yaml)
    {
        var path = _dir.Write($"etc/loaded-{Guid.NewGuid():N}.yaml", yaml);
        var result = Bulwark.Config.ConfigLoader.Load(new Bulwark.Config.ConfigRequest(Bulwark.Config.ConfigRole.Server, path, new Dictionary<string, string>(), []));
        Assert.True(result.Config is not null, string.Join('\n', result.Problems));
        return result.Config!;
    }
}
