using Bulwark.Config;
using Bulwark.Diagnostics;

namespace Bulwark.Runtime;

/// <summary>Everything the containerd config depends on, resolved from the Bulwark config and the host.</summary>
public sealed record ContainerdSettings(
    RuntimePaths Paths,
    string SandboxImage,
    bool SystemdCgroup,
    bool RestrictOomScoreAdj,
    string CniBinDir,
    string CniConfDir,
    bool Selinux,
    string RegistriesPath,
    bool DisableDefaultRegistryEndpoint,
    string ClusterCidr)
{
    /// <summary>RKE2's default sandbox image, prefixed by system-default-registry when set.</summary>
    public const string DefaultPauseImage = "rancher/mirrored-pause:3.6";

    public static ContainerdSettings From(EffectiveConfig config)
    {
        var paths = RuntimePaths.For(config.Layout);
        return new ContainerdSettings(
            paths,
            SandboxImageFor(config.Get(ConfigKeys.PauseImage), config.Get(ConfigKeys.SystemDefaultRegistry)),
            HostUsesSystemd(),
            !HostCanLowerOomScoreAdj(),
            FindCniBinDir(),
            paths.CniConfDir,
            config.Get(ConfigKeys.Selinux),
            config.Get(ConfigKeys.PrivateRegistry),
            config.Get(ConfigKeys.DisableDefaultRegistryEndpoint),
            config.Get(ConfigKeys.ClusterCidr).Split(',')[0].Trim());
    }

    /// <summary>The pause image the kubelet and CRI use: pause-image as given, else RKE2's default under system-default-registry.</summary>
    public static string SandboxImageFor(string pauseImage, string systemDefaultRegistry)
    {
        var image = pauseImage.Length > 0 ? pauseImage : DefaultPauseImage;
        var reference = ImageReference.TryParse(image)
            ?? throw new BulwarkException(ErrorKind.Usage, $"pause-image \"{image}\" is not an image reference (registry/repository:tag)");
        // system-default-registry replaces docker.io for system images only (RKE2): an explicit registry is kept.
        return systemDefaultRegistry.Length > 0 && reference.Registry == ImageReference.DockerHub && !image.StartsWith("docker.io/", StringComparison.Ordinal)
            ? reference.In(systemDefaultRegistry.TrimEnd('/')).ToString()
            : reference.ToString();
    }

    /// <summary>runc's cgroup driver must match the host's: systemd when systemd is the init (and the kubelet's cgroupDriver).</summary>
    public static bool HostUsesSystemd() => Directory.Exists("/run/systemd/system");

    /// <summary>The KubeletConfiguration cgroupDriver for a runc SystemdCgroup setting: the two must agree or pods fail to start.</summary>
    public static string CgroupDriver(bool systemdCgroup) => systemdCgroup ? "systemd" : "cgroupfs";

    /// <summary>
    /// CRI gives pod sandboxes oom_score_adj -998, which needs CAP_SYS_RESOURCE; where the host withholds it (some
    /// container and VM sandboxes do), runc dies with "can't get final child's PID from pipe" unless containerd's
    /// restrict_oom_score_adj clamps scores to its own. Read from the effective capabilities in /proc/self/status.
    /// </summary>
    public static bool HostCanLowerOomScoreAdj()
    {
        const int capSysResource = 24;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        return line is not null
            && ulong.TryParse(line["CapEff:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var effective)
            && (effective & (1UL << capSysResource)) != 0;
    }

    /// <summary>The CNI plugin folder: the conventional /opt/cni/bin when it holds plugins, else Debian's /usr/lib/cni.</summary>
    public static string FindCniBinDir() =>
        new[] { "/opt/cni/bin", "/usr/lib/cni" }.FirstOrDefault(d => File.Exists(Path.Combine(d, "loopback"))) ?? "/opt/cni/bin";
}
