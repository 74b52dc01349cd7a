using Bulwark.Config;

namespace Bulwark.Cni;

/// <summary>
/// The node's network choice from RKE2's <c>cni</c> key: one primary (canal, calico, cilium or none), optionally behind
/// Multus. Values are split on commas, so <c>cni: multus,canal</c> and <c>cni: [multus, canal]</c> mean the same.
/// </summary>
public sealed record CniSelection(string Primary, bool Multus)
{
    public const string Default = "canal";
    public const string MultusName = "multus";
    public const string NoneName = "none";
    public static readonly IReadOnlyList<string> Primaries = ["canal", "calico", "cilium", NoneName];

    /// <summary>The CNIs whose add-ons are deployed, Multus first (its chart wraps the primary's config).</summary>
    public IReadOnlyList<string> Deployed => [.. Multus ? [MultusName] : Array.Empty<string>(), .. Primary == NoneName ? [] : new[] { Primary }];

    /// <summary>As RKE2 spells it in config and as servers compare it at join.</summary>
    public string Display => Multus ? $"{MultusName},{Primary}" : Primary;

    public static CniSelection From(EffectiveConfig config) =>
        Parse(config.Get(ConfigKeys.Cni), out var error) ?? throw new InvalidOperationException($"cni: {error} (the config validator should have refused it)");

    /// <summary>RKE2's rules: empty → canal; one value that is not multus; two only as multus,&lt;primary|none&gt;; never more.</summary>
    public static CniSelection? Parse(IReadOnlyList<string> values, out string? error)
    {
        var items = values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        error = null;
        switch (items.Count)
        {
            case 0:
                return new CniSelection(Default, false);
            case 1 when items[0] == MultusName:
                error = "multus is not a primary CNI; name one after it, e.g. cni: [multus, canal]";
                return null;
            case 1:
                return Known(items[0], ref error) ? new CniSelection(items[0], false) : null;
            case 2 when items[0] != MultusName:
                error = $"two values are only allowed as multus followed by the primary (e.g. multus,{(Primaries.Contains(items[0]) ? items[0] : Default)}); got {string.Join(",", items)}";
                return null;
            case 2 when items[1] == MultusName:
                error = "multus given twice; write cni: [multus, canal] (or calico, cilium, none)";
                return null;
            case 2:
                return Known(items[1], ref error) ? new CniSelection(items[1], true) : null;
            default:
                error = $"at most two values (multus and one primary); got {items.Count}: {string.Join(",", items)}";
                return null;
        }
    }

    private static bool Known(string name, ref string? error)
    {
        if (Primaries.Contains(name))
        {
            return true;
        }
        var suggestion = Suggestions.Closest(name, [.. Primaries, MultusName]);
        error = $"unknown CNI \"{name}\"; expected canal, calico, cilium or none (optionally after multus){(suggestion is null ? "" : $"; did you mean '{suggestion}'?")}";
        return false;
    }
}
