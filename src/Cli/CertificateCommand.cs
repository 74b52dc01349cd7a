using System.CommandLine;
using System.Text.Json;
using Bulwark.Config;
using Bulwark.Crypto;
using Bulwark.Pki;

namespace Bulwark.Cli;

/// <summary><c>bulwark certificate check|rotate</c> (RKE2's commands of the same names).</summary>
internal static class CertificateCommand
{
    public static Command Create(CliEnvironment env) => new("certificate", "Check the expiry of the server certificates, or re-issue them")
    {
        CreateCheck(env),
        CreateRotate(env),
        CreateRotateServiceAccountKey(env),
        CreateRotateCa(env),
    };

    private static Command CreateCheck(CliEnvironment env)
    {
        var output = OutputOption.Create("table", "json");
        var command = new Command("check", "List every certificate under <data-dir>/server/tls: subject, SANs, not-after, days left, status; exit 1 if any has expired") { output };
        var flags = ConfigFlags.AddTo(command, [ConfigKeys.DataDir]);
        command.SetAction(parse =>
        {
            var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Server, flags);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            CertificateReport report;
            try
            {
                report = CertificateInventory.Check(new ServerPkiPaths(config.DataDir));
            }
            catch (PkiException e)
            {
                env.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.Failed;
            }
            if (parse.GetValue(output) == "json")
            {
                env.Out.WriteLine(JsonSerializer.Serialize(report, CryptoJsonContext.Default.CertificateReport));
            }
            else
            {
                WriteTable(report, env.Out, env.IsTerminal);
            }
            return report.AnyExpired || report.AnyUnreadable ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return command;
    }

    private static void WriteTable(CertificateReport report, TextWriter output, bool color)
    {
        string Paint(string text, string code) => color ? $"\u001b[{code}m{text}\u001b[0m" : text;
        output.WriteLine($"Certificates in {report.Directory}");
        var width = Math.Max(4, report.Certificates.Max(c => (int?)c.File.Length) ?? 4);
        output.WriteLine($"  {"FILE".PadRight(width)}  {"STATUS",-10}  {"DAYS",5}  {"NOT AFTER (UTC)",-16}  SUBJECT");
        foreach (var cert in report.Certificates)
        {
            var status = cert.Health switch
            {
                CertificateHealth.Ok => Paint("ok        ", "32"),
                CertificateHealth.RenewSoon => Paint("renew soon", "33"),
                CertificateHealth.Expired => Paint("expired   ", "31"),
                _ => Paint("unreadable", "31"),
            };
            var subject = cert.Problem ?? cert.Subject + (cert.IsCa ? " (CA)" : "");
            output.WriteLine($"  {cert.File.PadRight(width)}  {status}  {cert.DaysLeft?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",5}  {cert.NotAfter?.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture) ?? "-",-16}  {subject}");
            if (cert.AlternativeNames.Count > 0)
            {
                output.WriteLine($"  {"".PadRight(width)}  SANs: {string.Join(", ", cert.AlternativeNames)}");
            }
        }
        var expiringCas = report.Certificates.Where(c => c.IsCa && c.Health is CertificateHealth.Expired or CertificateHealth.RenewSoon).Select(c => c.File).ToList();
        if (expiringCas.Count > 0)
        {
            output.WriteLine($"CA certificates are not renewed automatically: {string.Join(", ", expiringCas)}. Replace them with the custom CA procedure before they expire.");
        }
        var expired = report.Certificates.Count(c => c.Health == CertificateHealth.Expired);
        var soon = report.Certificates.Count(c => c.Health == CertificateHealth.RenewSoon);
        output.WriteLine(expired > 0
            ? $"{expired} expired, {soon} to renew soon, of {report.Certificates.Count}. Renew leaves with: bulwark certificate rotate (or restart bulwark server)"
            : soon > 0
                ? $"{soon} of {report.Certificates.Count} expire within {(int)ServerPki.RenewWithin.TotalDays} days; the next `bulwark server` start renews them (or run bulwark certificate rotate)."
                : $"All {report.Certificates.Count} certificates are valid for more than {(int)ServerPki.RenewWithin.TotalDays} days.");
    }

    private static Command CreateRotate(CliEnvironment env)
    {
        var services = new Option<string[]>("--service", "-s")
        {
            Description = $"Service whose certificates to re-issue (repeatable; default all): {string.Join(", ", PkiCatalog.Services)}",
            AllowMultipleArgumentsPerToken = false,
            HelpName = "NAME",
        };
        var output = OutputOption.Create();
        var command = new Command("rotate", "Re-issue leaf certificates with new keys (CAs are kept); the old files are backed up to <data-dir>/server/tls-<time>/")
        {
            services, output,
        };
        var flags = ConfigFlags.AddTo(command,
        [
            ConfigKeys.DataDir, ConfigKeys.FipsMode, ConfigKeys.PkiKeyAlgorithm, ConfigKeys.NodeName, ConfigKeys.NodeIp, ConfigKeys.NodeExternalIp,
            ConfigKeys.AdvertiseAddress, ConfigKeys.TlsSan, ConfigKeys.ServiceCidr, ConfigKeys.ClusterDomain,
        ]);
        command.SetAction(parse =>
        {
            var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Server, flags);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            var names = parse.GetValue(services) ?? [];
            try
            {
                PkiCatalog.LeavesFor(names);
            }
            catch (ArgumentException e)
            {
                env.Error.WriteLine($"error: --service: {e.Message}");
                return ExitCodes.Usage;
            }
            RotationResult rotation;
            try
            {
                var crypto = CryptoStartup.Start(config).Service;
                rotation = new ServerPki(crypto).Rotate(ServerPkiOptions.From(config), names);
            }
            catch (Exception e) when (e is PkiException or CryptoPolicyException or FipsStartupException)
            {
                env.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.Failed;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                env.Error.WriteLine($"error: cannot write the certificates: {e.Message}. Run as root; files already re-issued are complete and the backup is intact.");
                return ExitCodes.Unavailable;
            }
            if (parse.GetValue(output) == "json")
            {
                env.Out.WriteLine(JsonSerializer.Serialize(new RotationView(rotation.BackupDirectory, rotation.Result.Changes), CryptoJsonContext.Default.RotationView));
                return ExitCodes.Ok;
            }
            env.Out.WriteLine($"Backed up the previous certificates to {rotation.BackupDirectory}");
            foreach (var change in rotation.Result.Changes.Where(c => c.Action != PkiAction.Reused))
            {
                env.Out.WriteLine($"  {change.Action.ToString().ToLowerInvariant(),-8} {Path.GetRelativePath(rotation.Result.Paths.DataDir, change.Path)}  ({change.Reason})");
            }
            var count = rotation.Result.Changes.Count(c => c.Action != PkiAction.Reused);
            env.Out.WriteLine($"{count} certificate(s) re-issued; CAs kept. Restart bulwark server so the components load them.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateRotateServiceAccountKey(CliEnvironment env)
    {
        var command = new Command("rotate-sa-key",
            "New service-account signing key for the whole cluster; tokens signed with the old key stay valid for service-account-key-retention (run on a server while bulwark server runs)");
        var flags = ConfigFlags.AddTo(command, [ConfigKeys.DataDir, ConfigKeys.EtcdClientPort, ConfigKeys.FipsMode, ConfigKeys.PkiKeyAlgorithm, ConfigKeys.ServiceAccountKeyRetention]);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Server, flags);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            var crypto = CryptoStartup.Start(config).Service;
            var retention = ServiceAccountKeys.RetentionOf(config);
            using var etcd = new Etcd.EtcdClient(Etcd.EtcdNode.FromConfig(config).ClientOptions());
            env.Out.WriteLine("Generating a new service-account key and storing the key set in the cluster's bootstrap data…");
            var result = await new Supervisor.ServiceAccountKeyRotation(crypto).RotateAsync(etcd, config.DataDir, KeyAlgorithms.From(config), retention, DateTimeOffset.UtcNow, cancellationToken);
            foreach (var file in result.Written)
            {
                env.Out.WriteLine($"  wrote {Path.GetRelativePath(config.DataDir, file)} (0600)");
            }
            foreach (var file in result.Pruned)
            {
                env.Out.WriteLine($"  pruned {file} (older than service-account-key-retention)");
            }
            env.Out.WriteLine($"Service-account key rotated; {result.Retained.Count} retired key(s) stay accepted for {retention.TotalHours:0}h after their rotation.");
            env.Out.WriteLine("Other servers copy the key set within seconds. Restart bulwark server on every server so kube-controller-manager signs with the new key and kube-apiserver accepts both.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateRotateCa(CliEnvironment env)
    {
        var step = new Argument<string>("STEP")
        {
            Description = "prepare: add new CAs beside the old ones in every trust bundle; rotate: the new CAs sign and every leaf is re-issued; finish: drop the old CAs",
        };
        step.AcceptOnlyFromAmong("prepare", "rotate", "finish");
        var command = new Command("rotate-ca", "Rotate the cluster's CAs side by side in three steps (restart every server after each); run on a server while bulwark server runs")
        {
            step,
        };
        var flags = ConfigFlags.AddTo(command,
        [
            ConfigKeys.DataDir, ConfigKeys.EtcdClientPort, ConfigKeys.FipsMode, ConfigKeys.PkiKeyAlgorithm, ConfigKeys.NodeName, ConfigKeys.NodeIp, ConfigKeys.NodeExternalIp,
            ConfigKeys.AdvertiseAddress, ConfigKeys.TlsSan, ConfigKeys.ServiceCidr, ConfigKeys.ClusterDomain, ConfigKeys.ServiceAccountKeyRetention,
        ]);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var config = GlobalOptions.LoadConfig(parse, env, ConfigRole.Server, flags);
            if (config is null)
            {
                return ExitCodes.Usage;
            }
            var which = Enum.Parse<CaRotationStep>(parse.GetValue(step)!, ignoreCase: true);
            var crypto = CryptoStartup.Start(config).Service;
            using var etcd = new Etcd.EtcdClient(Etcd.EtcdNode.FromConfig(config).ClientOptions());
            var result = await new Supervisor.CaRotationRun(crypto).RunAsync(etcd, ServerPkiOptions.From(config), which, cancellationToken);
            foreach (var change in result)
            {
                env.Out.WriteLine($"  {change.Action.ToString().ToLowerInvariant(),-8} {Path.GetRelativePath(config.DataDir, change.Path)}  ({change.Reason})");
            }
            env.Out.WriteLine(which switch
            {
                CaRotationStep.Prepare => "CA rotation prepared: every trust bundle holds the old and the new CAs. Restart bulwark server on every server (other servers copy the files within seconds), then run: bulwark certificate rotate-ca rotate",
                CaRotationStep.Rotate => "New CAs sign: this server's certificates were re-issued; other servers re-issue theirs within seconds. Restart bulwark server on every server and rejoin agents with the new token (server/token: the CA hash changed), then run: bulwark certificate rotate-ca finish",
                _ => "Old CAs removed from the trust bundles: certificates they issued are refused after the restart. Restart bulwark server on every server.",
            });
            return ExitCodes.Ok;
        });
        return command;
    }
}
