namespace Bulwark.Config;

/// <summary>A configuration check owned by a capability: adds a problem (with its source) for each thing wrong.</summary>
public delegate void ConfigCheck(EffectiveConfig config, List<ConfigProblem> problems);

/// <summary>Checks that span several keys, after merging. Adds every problem found; applies what a profile forces.</summary>
internal static class ConfigValidator
{
    public static EffectiveConfig Validate(EffectiveConfig config, IReadOnlyList<ConfigCheck> checks, List<ConfigProblem> problems)
    {
        var profile = config.Get(ConfigKeys.Profile);
        if (config.Profile == HardeningProfile.Cis)
        {
            if (config.IsSet(ConfigKeys.ProtectKernelDefaults) && !config.Get(ConfigKeys.ProtectKernelDefaults))
            {
                problems.Add(ConfigProblem.Error(config.SourceOf(ConfigKeys.ProtectKernelDefaults).Where, ConfigKeys.ProtectKernelDefaults.Name,
                    $"cannot be false with profile {profile} (CIS 4.2.6 requires it); remove the setting or the profile"));
            }
            config = config.With(ConfigKeys.ProtectKernelDefaults, true, ConfigSource.ForcedByProfile(profile));
        }

        ExclusivePair(config, ConfigKeys.Token, ConfigKeys.TokenFile, problems);
        ExclusivePair(config, ConfigKeys.AgentToken, ConfigKeys.AgentTokenFile, problems);

        if (config.Role == ConfigRole.Server)
        {
            var ports = new (IntKey Key, int Port)[]
            {
                (ConfigKeys.SupervisorPort, config.Get(ConfigKeys.SupervisorPort)),
                (ConfigKeys.HttpsListenPort, config.Get(ConfigKeys.HttpsListenPort)),
                (ConfigKeys.EtcdClientPort, config.Get(ConfigKeys.EtcdClientPort)),
                (ConfigKeys.EtcdPeerPort, config.Get(ConfigKeys.EtcdPeerPort)),
                (ConfigKeys.EtcdMetricsPort, config.Get(ConfigKeys.EtcdMetricsPort)),
            };
            foreach (var clash in ports.GroupBy(p => p.Port).Where(g => g.Count() > 1))
            {
                var names = clash.Select(p => p.Key.Name).ToList();
                problems.Add(ConfigProblem.Error(config.SourceOf(clash.Last().Key).Where, names[^1],
                    $"port {clash.Key} is also used by {string.Join(", ", names.Take(names.Count - 1))}; give each listener its own port"));
            }
        }

        foreach (var check in checks)
        {
            check(config, problems);
        }
        return config;
    }

    private static void ExclusivePair(EffectiveConfig config, ConfigKey a, ConfigKey b, List<ConfigProblem> problems)
    {
        if (config.IsSet(a) && config.IsSet(b))
        {
            problems.Add(ConfigProblem.Error(config.SourceOf(b).Where, b.Name,
                $"set together with {a.Name} ({config.SourceOf(a).Where}); use one of them"));
        }
    }
}
