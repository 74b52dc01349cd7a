using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Bulwark.Config;
using Bulwark.Etcd;

namespace Bulwark.Cli;

/// <summary><c>bulwark etcd-snapshot save|list|delete|prune</c> against the local server's etcd (found from --config/--data-dir/--etcd-client-port).</summary>
internal static class EtcdSnapshotCommand
{
    private static readonly ConfigKey[] Keys =
    [
        ConfigKeys.DataDir, ConfigKeys.EtcdClientPort, ConfigKeys.NodeName, ConfigKeys.Token, ConfigKeys.TokenFile,
        ConfigKeys.EtcdSnapshotDir, ConfigKeys.EtcdSnapshotCompress, ConfigKeys.EtcdSnapshotRetention,
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
        var compress = new Option<bool>("--compress") { Description = "gzip the snapshot (default etcd-snapshot-compress)" };
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
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    private static Command CreateList(CliEnvironment env)
    {
        var dir = DirOption();
        var output = OutputOption.Create("table", "json");
        var command = new Command("list", "List snapshots, newest first") { dir, output };
        var flags = ConfigFlags.AddTo(command, Keys);
        command.SetAction(parse =>
        {
            if (Load(parse, env, flags, dir) is not var (_, _, settings))
            {
                return ExitCodes.Usage;
            }
            var entries = new SnapshotStore(settings.Directory).List();
            if (parse.GetValue(output) == "json")
            {
                env.Out.WriteLine(JsonSerializer.Serialize(entries.ToArray(), SnapshotJsonContext.Default.SnapshotEntryArray));
                return ExitCodes.Ok;
            }
            if (entries.Count == 0)
            {
                env.Out.WriteLine($"No snapshots in {settings.Directory}.");
                return ExitCodes.Ok;
            }
            var width = Math.Max(4, entries.Max(e => e.Name.Length));
            env.Out.WriteLine($"{"NAME".PadRight(width)}  {"SIZE",9}  {"CREATED (UTC)",-19}  {"KIND",-9}  {"REVISION",8}  NOTE");
            foreach (var e in entries)
            {
                var created = (e.Metadata?.Created ?? e.Modified).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
                var note = e.Metadata is null ? "no metadata: not verified" : e.Metadata.Compressed ? "gzip" : "";
                env.Out.WriteLine($"{e.Name.PadRight(width)}  {Size(e.Size),9}  {created,-19}  {e.Metadata?.Kind ?? "?",-9}  {e.Metadata?.Revision.ToString(CultureInfo.InvariantCulture) ?? "?",8}  {note}");
            }
            env.Out.WriteLine($"{entries.Count} snapshot(s) in {settings.Directory}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateDelete(CliEnvironment env)
    {
        var names = new Argument<string[]>("NAME") { Description = "Snapshot names as shown by list", Arity = ArgumentArity.OneOrMore };
        var dir = DirOption();
        var command = new Command("delete", "Delete snapshots by name (with their metadata)") { names, dir };
        var flags = ConfigFlags.AddTo(command, Keys);
        command.SetAction(parse =>
        {
            if (Load(parse, env, flags, dir) is not var (_, _, settings))
            {
                return ExitCodes.Usage;
            }
            var store = new SnapshotStore(settings.Directory);
            var missing = 0;
            foreach (var name in parse.GetValue(names)!)
            {
                try
                {
                    if (store.Delete(name))
                    {
                        env.Out.WriteLine($"deleted {name}");
                    }
                    else
                    {
                        missing++;
                        env.Error.WriteLine($"error: no snapshot named {name} in {settings.Directory} (see: bulwark etcd-snapshot list)");
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
        return command;
    }

    private static Command CreatePrune(CliEnvironment env)
    {
        var name = NameOption("Prune snapshots with this base name");
        var dir = DirOption();
        var retention = new Option<int?>("--snapshot-retention") { Description = "How many to keep (default etcd-snapshot-retention)", HelpName = "N" };
        var command = new Command("prune", "Delete the oldest snapshots of a base name beyond the retention") { name, dir, retention };
        var flags = ConfigFlags.AddTo(command, Keys.Where(k => k != ConfigKeys.EtcdSnapshotRetention));
        command.SetAction(parse =>
        {
            if (Load(parse, env, flags, dir) is not var (_, _, settings))
            {
                return ExitCodes.Usage;
            }
            var keep = parse.GetValue(retention) ?? settings.Retention;
            if (keep < 1)
            {
                env.Error.WriteLine($"error: --snapshot-retention must be at least 1 (got {keep})");
                return ExitCodes.Usage;
            }
            var pruned = new SnapshotStore(settings.Directory).Prune(parse.GetValue(name)!, null, keep);
            foreach (var p in pruned)
            {
                env.Out.WriteLine($"deleted {p}");
            }
            env.Out.WriteLine($"{pruned.Count} snapshot(s) pruned; kept the newest {keep} named {parse.GetValue(name)}-*");
            return ExitCodes.Ok;
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
        var settings = SnapshotSettings.FromConfig(config, node);
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
