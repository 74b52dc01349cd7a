using Bulwark.Config;

namespace Bulwark.Cni;

/// <summary>
/// The <c>cni</c> key's rules for the config validator: RKE2's selection rules (errors), and what the profile and
/// fips-mode make of the choice (warnings). WireGuard settings live in chart values and are refused by the add-on stage.
/// </summary>
public static class CniConfigChecks
{
    public static void Check(EffectiveConfig config, List<ConfigProblem> problems)
    {
        var where = config.SourceOf(ConfigKeys.Cni).Where;
        var selection = CniSelection.Parse(config.Get(ConfigKeys.Cni), out var error);
        if (selection is null)
        {
            problems.Add(ConfigProblem.Error(where, ConfigKeys.Cni.Name, error!));
            return;
        }
        if (config.Role != ConfigRole.Server)
        {
            return;
        }
        var catalog = CniCatalog.BuiltIn.Value;
        if (config.Get(ConfigKeys.FipsMode) != "off")
        {
            foreach (var spec in catalog.For(selection).Where(s => !s.FipsBuilds))
            {
                problems.Add(ConfigProblem.Warning(where, ConfigKeys.Cni.Name,
                    $"{spec.Name}'s images are upstream builds, not FIPS-validated ones; with fips-mode {config.Get(ConfigKeys.FipsMode)} " +
                    "the cluster's data plane is outside the FIPS boundary (canal uses hardened FIPS builds)"));
            }
        }
        if (config.Profile == HardeningProfile.Cis && selection.Primary == CniSelection.NoneName)
        {
            problems.Add(ConfigProblem.Warning(where, ConfigKeys.Cni.Name,
                "none: Bulwark deploys no CNI; CIS 5.3.1 (a CNI that supports NetworkPolicy) fails unless you install one that does"));
        }
    }
}
