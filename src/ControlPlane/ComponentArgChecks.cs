using Bulwark.Config;

namespace Bulwark.ControlPlane;

/// <summary>
/// Judges every <c>*-arg</c> value against the flag set of the pinned upstream release (<see cref="KubernetesContract"/>):
/// a flag the release does not parse is a configuration error with where it was set and a "did you mean"; a removed
/// one names the release that removed it; a deprecated one is a warning naming what replaces it.
/// </summary>
public static class ComponentArgChecks
{
    /// <summary>The config-file kind that replaces a component's deprecated flags, for messages.</summary>
    public static string ConfigKindOf(string component) => component switch
    {
        "kubelet" => "KubeletConfiguration",
        "kube-scheduler" => "KubeSchedulerConfiguration",
        "kube-proxy" => "KubeProxyConfiguration",
        _ => component + " configuration",
    };

    public static void Validate(EffectiveConfig config, List<ConfigProblem> problems)
    {
        var contract = KubernetesContract.BuiltIn;
        foreach (var component in ComponentSpecLoader.Names)
        {
            var key = ArgumentMerger.UserKeyFor(component);
            var flags = contract[component];
            var release = component == "etcd" ? $"etcd {contract.EtcdMinor}" : $"{component} v{contract.KubernetesMinor}";
            foreach (var raw in config.Get(key))
            {
                var name = ArgumentMerger.NameOf(raw);
                var where = config.SourceOf(key).Where;
                switch (flags.Find(name))
                {
                    case null:
                        var suggestion = flags.Suggest(name);
                        problems.Add(ConfigProblem.Error(where, key.Name,
                            $"\"{raw}\": {release} has no flag --{name}" + (suggestion is null ? $"; see {flags.SourcePath} for the flags it accepts" : $"; did you mean '{suggestion}'?")));
                        break;
                    case { Status: UpstreamFlagStatus.Removed } removed:
                        problems.Add(ConfigProblem.Error(where, key.Name,
                            $"\"{raw}\": --{name} was removed in Kubernetes v{removed.RemovedIn} and {release} exits with \"unknown flag\"; remove it (instead: {removed.Use})"));
                        break;
                    case { Status: UpstreamFlagStatus.Deprecated } deprecated:
                        problems.Add(ConfigProblem.Warning(where, key.Name, component == "kubelet" && deprecated.ConfigField is { } field
                            ? $"\"{raw}\": --{name} is deprecated in {release}; Bulwark writes the value to the KubeletConfiguration field {field} instead of the flag"
                            : $"\"{raw}\": --{name} is deprecated in {release}; use {deprecated.Replacement(ConfigKindOf(component))}"));
                        break;
                }
            }
        }
    }
}
