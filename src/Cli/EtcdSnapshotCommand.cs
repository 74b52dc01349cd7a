using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Bulwark.Config;
using Bulwark.Etcd;

namespace Bulwark.Cli;

/// <summary>
/// <c>bulwark etcd-snapshot save|list|delete|prune</c> against the local server's etcd (found from --config/--data-dir/--etcd-client-port),
/// and with etcd-s3 against the S3 folder too: save uploads, list merges, delete and prune work in both places.
/// </summary>
internal static class EtcdSnapshotCommand
{
    private static readonly ConfigKey[] Keys =
    [
        ConfigKeys.DataDir, ConfigKeys.EtcdClientPort, ConfigKeys.NodeName, ConfigKeys.Token, ConfigKeys.TokenFile,
        ConfigKeys.EtcdSnapshotDir, ConfigKeys.EtcdSnapshotCompress, ConfigKeys.EtcdSnapshotRetention,
        ConfigKeys.EtcdS3, ConfigKeys.EtcdS3Endpoint, ConfigKeys.EtcdS3EndpointCa, ConfigKeys.EtcdS3SkipSslVerify, ConfigKeys.EtcdS3Insecure,
        ConfigKeys.EtcdS3Bucket, ConfigKeys.EtcdS3Region, ConfigKeys.EtcdS3Folder, ConfigKeys.EtcdS3AccessKey, ConfigKeys.EtcdS3SecretKey,
        ConfigKeys.EtcdS3Retention, ConfigKeys.EtcdS3Timeout, ConfigKeys.EtcdS3Proxy,
    ];

    public static Command Create(CliEnvironment env) => new("etcd-snapshot", "Save, list, delete and prune etcd snapshots of this server")
    {
        CreateSave(env), CreateList(env), CreateDelete(env), CreatePrune(env),
    };

    private static Option<string> NameOption(string description) => new("--name")
    {
        Description = description,
        DefaultValueFactory = _ => SnapshotMetadata.OnDemandKind,
        HelpName = "NAME",
    };

    private static Option<string> DirOption() => new("--dir") { Description = "Snapshot folder (default etcd-snapshot-dir, else <data-dir>/server/db/snapshots)", HelpName = "DIR" };

    private static Command CreateSave(CliEnvironment env)
    {
        var name = NameOption("Base name; the file is <name>-<node>-<unix-seconds>");
        var dir = DirOption();
        var compress = new Option<bool>("--compress") { Description = "Compress the snapshot as RKE2 does: a .zip with one entry (default etcd-snapshot-compress)" };
        var command = new Command("save", "Take a snapshot now (on-demand snapshots are never pruned by the schedule)") { name, dir, compress };
        var flags = ConfigFlags.AddTo(command, Keys);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (Load(parse, env, flags, dir) is not var (config, node, settings))
            {
                return ExitCodes.Usage;
            }
            if (!ValidName(parse.GetValue(name)!, env))
            {
                return ExitCodes.Usage;
            }
            var request = settings.Request(parse.GetValue(name)!, SnapshotMetadata.OnDemandKind, node.NodeName, BuildInfo.Current.Version,
                parse.GetResult(compress) is { Implicit: false } ? parse.GetValue(compress) : null);
            return await GuardAsync(env, node, async () =>
            {
                using var client = new EtcdClient(node.ClientOptions());
                var saved = await new SnapshotStore(settings.Directory).SaveAsync(client, request, cancellationToken);
                env.Out.WriteLine($"Snapshot {saved.Name} saved: {Path.Combine(settings.Directory, saved.File)}");
                env.Out.WriteLine($"  {Size(saved.Size)}, revision {saved.Revision}, sha256 {saved.Sha256}");
                if (settings.S3 is { } s3Settings)
                {
                    using var s3 = new S3SnapshotStore(s3Settings);
                    try
                    {
                        var location = await s3.UploadAsync(Path.Combine(settings.Directory, saved.File), saved, new Airgap.TransferProgress(env.Error, env.IsTerminal), cancellationToken);
                        env.Out.WriteLine($"  uploaded to {location}");
                    }
                    catch (SnapshotException e)
                    {
                        env.Error.WriteLine($"error: {e.Message}");
                        env.Error.WriteLine($"The snapshot is kept locally in {settings.Directory}.");
                        return ExitCodes.Unavailable;
                    }
                }
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    private static Command CreateList(CliEnvironment env)
    {
        var dir = DirOption();
        var output = OutputOption.Create("table", "json");
        var command = new Command("list", "List snapshots, local and (with etcd-s3) in S3, newest first") { dir, output };
        var flags = ConfigFlags.AddTo(command, Keys);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (Load(parse, env, flags, dir) is not var (_, node, settings))
            {
                return ExitCodes.Usage;
            }
            return await GuardAsync(env, node, async () =>
            {
                var entries = new SnapshotStore(settings.Directory).List();
                if (settings.S3 is { } s3Settings)
                {
                    using var s3 = new S3SnapshotStore(s3Settings);
                    entries = SnapshotStore.NewestFirst([.. entries, .. await s3.ListAsync(cancellationToken)]);
                }
                var where = settings.Directory + (settings.S3 is { } s ? $" and s3://{s.Bucket}/{s.Prefix}" : "");
                if (parse.GetValue(output) == "json")
                {
                    env.Out.WriteLine(JsonSerializer.Serialize(entries.ToArray(), SnapshotJsonContext.Default.SnapshotEntryArray));
                    return ExitCodes.Ok;
                }
                if (entries.Count == 0)
                {
                    env.Out.WriteLine($"No snapshots in {where}.");
                    return ExitCodes.Ok;
                }
                var width = Math.Max(4, entries.Max(e => e.Name.Length));
                env.Out.WriteLine($"{"NAME".PadRight(width)}  {"SIZE",9}  {"CREATED (UTC)",-19}  {"KIND",-9}  {"REVISION",8}  {"NOTE",-9}  LOCATION");
                foreach (var e in entries)
                {
                    var created = (e.Metadata?.Created ?? e.Modified).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
                    var note = e.Metadata is null ? "no metadata: not verified" : SnapshotFormat.Of(e.FileName) switch
                    {
                        SnapshotCompression.Zip => "zip",
                        SnapshotCompression.Gzip => "gzip",
                        _ => "",
                    };
                    env.Out.WriteLine($"{e.Name.PadRight(width)}  {Size(e.Size),9}  {created,-19}  {e.Metadata?.Kind ?? "?",-9}  {e.Metadata?.Revision.ToString(CultureInfo.InvariantCulture) ?? "?",8}  {note,-9}  {e.Location}");
                }
                env.Out.WriteLine($"{entries.Count} snapshot(s) in {where}");
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    private static Command CreateDelete(CliEnvironment env)
    {
        var names = new Argument<string[]>("NAME") { Description = "Snapshot names as shown by list", Arity = ArgumentArity.OneOrMore };
        var dir = DirOption();
        var command = new Command("delete", "Delete snapshots by name (with their metadata), locally and (with etcd-s3) in S3") { names, dir };
        var flags = ConfigFlags.AddTo(command, Keys);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (Load(parse, env, flags, dir) is not var (_, node, settings))
            {
                return ExitCodes.Usage;
            }
            return await GuardAsync(env, node, async () =>
            {
                var store = new SnapshotStore(settings.Directory);
                using var s3 = settings.S3 is { } s3Settings ? new S3SnapshotStore(s3Settings) : null;
                var missing = 0;
                foreach (var name in parse.GetValue(names)!)
                {
                    try
                    {
                        var local = store.Delete(name);
                        var remote = s3 is not null && await s3.DeleteAsync(name, cancellationToken);
                        if (local || remote)
                        {
                            env.Out.WriteLine($"deleted {name}{(local && remote ? " (local and S3)" : remote ? " (S3)" : "")}");
                        }
                        else
                        {
                            missing++;
                            env.Error.WriteLine($"error: no snapshot named {name} in {settings.Directory}{(s3 is null ? "" : $" or {s3.Describe}")} (see: bulwark etcd-snapshot list)");
                        }
                    }
                    catch (SnapshotException e)
                    {
                        missing++;
                        env.Error.WriteLine($"error: {e.Message}");
                    }
                }
                return missing == 0 ? ExitCodes.Ok : ExitCodes.Failed;
            });
        });
        return command;
    }

    private static Command CreatePrune(CliEnvironment env)
    {
        var name = NameOption("Prune snapshots with this base name");
        var dir = DirOption();
        var retention = new Option<int?>("--snapshot-retention") { Description = "How many to keep (default etcd-snapshot-retention)", HelpName = "N" };
        var command = new Command("prune", "Delete the oldest snapshots of a base name beyond the retention (and in S3 beyond etcd-s3-retention)") { name, dir, retention };
        var flags = ConfigFlags.AddTo(command, Keys.Where(k => k != ConfigKeys.EtcdSnapshotRetention));
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (Load(parse, env, flags, dir) is not var (_, node, settings))
            {
                return ExitCodes.Usage;
            }
            var keep = parse.GetValue(retention) ?? settings.Retention;
            if (keep < 1)
            {
                env.Error.WriteLine($"error: --snapshot-retention must be at least 1 (got {keep})");
                return ExitCodes.Usage;
            }
            var baseName = parse.GetValue(name)!;
            var pruned = new SnapshotStore(settings.Directory).Prune(baseName, null, keep);
            foreach (var p in pruned)
            {
                env.Out.WriteLine($"deleted {p}");
            }
            env.Out.WriteLine($"{pruned.Count} snapshot(s) pruned; kept the newest {keep} named {baseName}-*");
            if (settings.S3 is not { } s3Settings)
            {
                return ExitCodes.Ok;
            }
            return await GuardAsync(env, node, async () =>
            {
                using var s3 = new S3SnapshotStore(s3Settings);
                var prunedS3 = await s3.PruneAsync(baseName, null, s3Settings.Retention, cancellationToken);
                foreach (var p in prunedS3)
                {
                    env.Out.WriteLine($"deleted {p} (S3)");
                }
                env.Out.WriteLine($"{prunedS3.Count} snapshot(s) pruned in {s3.Describe}; kept the newest {s3Settings.Retention} named {baseName}-* (etcd-s3-retention)");
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    private static (EffectiveConfig, EtcdNode, SnapshotSettings)? Load(ParseResult parse, CliEnvironment env, ConfigFlags flags, Option<string> dir)
    {
        var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Server, flags);
        if (config is null)
        {
            return null;
        }
        var node = EtcdNode.FromConfig(config);
        if (!node.RunsMember)
        {
            // Snapshots are of a local member's backend and kept beside it: the etcd servers take them (as on RKE2's etcd nodes).
            env.Error.WriteLine("error: disable-etcd: this is a control-plane-only server; it runs no etcd member, so it takes no snapshots. " +
                "Run bulwark etcd-snapshot on a server that runs etcd (one of the members in " + node.Paths.RemoteEndpointsFile + ").");
            return null;
        }
        var settings = SnapshotSettings.FromConfig(config, node, env.Variables);
        if (parse.GetValue(dir) is { Length: > 0 } d)
        {
            settings = settings with { Directory = Path.GetFullPath(d) };
        }
        return (config, node, settings);
    }

    private static bool ValidName(string name, CliEnvironment env)
    {
        if (name.Length is > 0 and <= 63 && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') && name[0] != '-')
        {
            return true;
        }
        env.Error.WriteLine($"error: --name '{name}': use lowercase letters, digits and '-' (at most 63), e.g. --name before-upgrade");
        return false;
    }

    private static async Task<int> GuardAsync(CliEnvironment env, EtcdNode node, Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (EtcdException e)
        {
            env.Error.WriteLine($"error: {e.Message}");
            env.Error.WriteLine($"Is bulwark server running with this data dir and etcd-client-port ({node.LocalClientUrl})?");
            return ExitCodes.Unavailable;
        }
        catch (Exception e) when (e is SnapshotException or FileNotFoundException or IOException or UnauthorizedAccessException)
        {
            env.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.Unavailable;
        }
    }

    private static string Size(long bytes) => bytes switch
    {
        >= 1 << 30 => $"{bytes / (double)(1 << 30):0.0} GiB",
        >= 1 << 20 => $"{bytes / (double)(1 << 20):0.0} MiB",
        >= 1 << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
