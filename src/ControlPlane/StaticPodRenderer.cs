using System.Security.Cryptography;
using System.Text;
using Bulwark.Config;
using Bulwark.Kube;

namespace Bulwark.ControlPlane;

/// <summary>Turns a component's merged arguments into its static pod: mounts for exactly the files the args reference, probes, a hash.</summary>
public static class StaticPodRenderer
{
    public static StaticPod Render(ComponentArgs args, RenderContext context)
    {
        var spec = args.Spec;
        var mounts = Mounts(args, context);
        var argv = args.Argv;
        var registry = context.Config.Get(ConfigKeys.SystemDefaultRegistry);
        var image = registry.Length > 0 ? $"{registry.TrimEnd('/')}/{spec.Image}" : spec.Image;
        return new StaticPod(
            spec.Name, "kube-system", spec.Name, spec.Tier, spec.PriorityClass, HostNetwork: true, image,
            [spec.Binary], argv,
            [new(StaticPod.HashVariable, Hash(argv, mounts))],
            Probe(spec, args, context, p => p.Liveness, 8),
            Probe(spec, args, context, p => p.Readiness, 3),
            Probe(spec, args, context, p => p.Startup, 24),
            mounts);
    }

    /// <summary>Host paths named by arguments marked mount in the data (with the user's value when overridden), plus probe files.</summary>
    public static IReadOnlyList<HostPathMount> Mounts(ComponentArgs args, RenderContext context)
    {
        var wanted = new List<(string Path, MountKind Kind)>();
        // Every value of a repeated flag (kube-apiserver's --service-account-key-file lists retired keys too).
        foreach (var arg in args.Spec.Args.Where(a => a.Mount != MountKind.None))
        {
            foreach (var value in args.Args.Where(a => a.Key == arg.Name).Select(a => a.Value).Where(v => v.Length > 0 && Path.IsPathRooted(v)).Distinct())
            {
                wanted.Add(arg.Mount == MountKind.WritableDirectory && Path.HasExtension(value)
                    ? (Path.GetDirectoryName(value)!, MountKind.WritableDirectory)
                    : (value, arg.Mount));
            }
        }
        foreach (var field in args.Spec.Config.Where(f => f.Mount != MountKind.None && context.Applies(f.CisOnly, f.When, args.Spec.SourcePath)))
        {
            var overridden = args.ConfigOverrides.LastOrDefault(o => o.Key == field.Path).Value as YamlDotNet.RepresentationModel.YamlScalarNode;
            wanted.Add((overridden?.Value ?? context.Expand(field.ValueNode.Value ?? "", $"{args.Spec.SourcePath}:{field.Line}"), field.Mount));
        }
        // A kubeconfig is read together with the files it names: mount its CA, certificate and key too.
        foreach (var kubeconfig in wanted.Where(w => w.Kind == MountKind.File && w.Path.EndsWith(".kubeconfig", StringComparison.Ordinal) && File.Exists(w.Path)).ToList())
        {
            var parsed = Kubeconfig.Parse(File.ReadAllText(kubeconfig.Path), kubeconfig.Path);
            foreach (var credential in new[] { parsed.CertificateAuthority, parsed.ClientCertificate, parsed.ClientKey })
            {
                if (credential?.Path is { } referenced)
                {
                    wanted.Add((referenced, MountKind.File));
                }
            }
        }
        // The encryption config names the KMS plugin's socket: kube-apiserver dials it from inside its pod.
        foreach (var encryption in wanted.Where(w => w.Kind == MountKind.File && w.Path == context.Paths.EncryptionConfig && File.Exists(w.Path)).ToList())
        {
            if (EncryptionConfiguration.Parse(File.ReadAllText(encryption.Path), encryption.Path).Kms is { } kms)
            {
                wanted.Add((kms.SocketPath, MountKind.Socket));
            }
        }
        foreach (var extra in args.Spec.Probes?.Mounts ?? [])
        {
            wanted.Add((context.Expand(extra, args.Spec.SourcePath + " probes.mounts"), MountKind.File));
        }
        var mounts = new List<HostPathMount>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, kind) in wanted.DistinctBy(w => w.Path))
        {
            var name = VolumeName(path, names);
            var type = kind switch
            {
                MountKind.File => "File",
                MountKind.Socket => "Socket",
                _ => "DirectoryOrCreate",
            };
            mounts.Add(new HostPathMount(name, path, type, kind != MountKind.WritableDirectory));
        }
        return mounts;
    }

    /// <summary>sha256 over the argv and every mounted file's path and content, so a changed cert or config restarts the pod.</summary>
    public static string Hash(IReadOnlyList<string> argv, IReadOnlyList<HostPathMount> mounts)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var arg in argv)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(arg + "\n"));
        }
        foreach (var mount in mounts.Where(m => m.Type == "File").OrderBy(m => m.Path, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(mount.Path + "\0"));
            hash.AppendData(File.Exists(mount.Path) ? File.ReadAllBytes(mount.Path) : "absent"u8.ToArray());
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static Probe? Probe(ComponentSpec spec, ComponentArgs args, RenderContext context, Func<ProbeSpec, string?> pick, int failureThreshold)
    {
        if (spec.Probes is not { } probes || pick(probes) is not { } path)
        {
            return null;
        }
        var where = spec.SourcePath + " probes";
        if (probes.Exec is { } exec)
        {
            return new Probe([.. exec.Select(e => context.Expand(e, where)), "--raw=" + path], null, null, 0, null, failureThreshold, 10);
        }
        var port = PortOf(args.Get(probes.HttpPortArg!) ?? throw new ControlPlaneDataException($"{where}: port-arg {probes.HttpPortArg} is not rendered"));
        return new Probe(null, probes.HttpHost ?? "127.0.0.1", path, port, probes.HttpScheme, failureThreshold, 10);
    }

    /// <summary>The port in a value such as "10257", "127.0.0.1:10256" or "http://127.0.0.1:2381" (first of a comma list).</summary>
    public static int PortOf(string value)
    {
        var first = value.Split(',')[0].Trim();
        if (Uri.TryCreate(first, UriKind.Absolute, out var uri) && uri.Scheme.StartsWith("http", StringComparison.Ordinal))
        {
            return uri.Port;
        }
        var colon = first.LastIndexOf(':');
        return int.TryParse(colon >= 0 ? first[(colon + 1)..] : first, System.Globalization.CultureInfo.InvariantCulture, out var port)
            ? port
            : throw new ControlPlaneDataException($"cannot find a port in \"{value}\"");
    }

    private static string VolumeName(string path, HashSet<string> taken)
    {
        var builder = new StringBuilder();
        foreach (var c in Path.GetFileName(path.TrimEnd('/')).ToLowerInvariant())
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) ? c : '-');
        }
        var stem = builder.ToString().Trim('-');
        stem = stem.Length == 0 ? "root" : stem[..Math.Min(stem.Length, 56)];
        var name = stem;
        for (var i = 2; !taken.Add(name); i++)
        {
            name = $"{stem}-{i}";
        }
        return name;
    }
}
