using Bulwark.Resources;
using Bulwark.Diagnostics;

namespace Bulwark.Crypto;

/// <summary>One row of policies/crypto/algorithms.yaml.</summary>
public sealed record AlgorithmRule(string Name, bool Approved, string Rule, int? MinimumBits = null);

/// <summary>
/// The approved-algorithm table (NIST SP 800-131A rev2, FIPS 186-5, SP 800-52 rev2, SP 800-132, SP 800-38D),
/// read from policies/crypto/algorithms.yaml. A name that is not in the table is not approved.
/// </summary>
public sealed class AlgorithmPolicy
{
    public const string ResourcePath = "policies/crypto/algorithms.yaml";

    private readonly Dictionary<string, AlgorithmRule> _rules;

    public AlgorithmPolicy(IEnumerable<AlgorithmRule> rules) =>
        _rules = rules.ToDictionary(r => r.Name, StringComparer.OrdinalIgnoreCase);

    public static AlgorithmPolicy BuiltIn { get; } = Load(EmbeddedData.BuiltIn);

    public IEnumerable<AlgorithmRule> Rules => _rules.Values;

    public static AlgorithmPolicy Load(EmbeddedData data)
    {
        var file = DataFiles.Reader(ResourcePath);
        return new AlgorithmPolicy(file.Mappings(file.ParseMapping(data.ReadText(ResourcePath)), "algorithms").Select(item => new AlgorithmRule(
            file.String(item, "name"), file.Bool(item, "approved"), file.String(item, "rule"), file.OptionalInt(item, "min-bits"))));
    }

    /// <summary>The verdict for an algorithm name (and key size where the rule has a minimum).</summary>
    public PolicyDecision Evaluate(string algorithm, int? keyBits = null)
    {
        if (!_rules.TryGetValue(algorithm, out var rule))
        {
            return new PolicyDecision(algorithm, false, $"not in Bulwark's approved-algorithm list ({ResourcePath})");
        }
        if (rule.Approved && rule.MinimumBits is { } min && keyBits is { } bits && bits < min)
        {
            return new PolicyDecision($"{algorithm}-{bits}", false, rule.Rule);
        }
        return new PolicyDecision(algorithm, rule.Approved, rule.Rule);
    }
}

public sealed record PolicyDecision(string Algorithm, bool Approved, string Rule);

/// <summary>An algorithm was requested that the FIPS policy does not allow. The message names the algorithm and the rule.</summary>
public sealed class CryptoPolicyException(PolicyDecision decision, FipsMode mode)
    : BulwarkException(ErrorKind.Refused, $"{decision.Algorithm} is not an approved algorithm under fips-mode {mode.Name()}: {decision.Rule}. " +
        "Use an approved algorithm (SHA-256/384, ECDSA P-256/P-384, RSA >= 2048, AES-GCM), or set fips-mode: off if this host does not need FIPS conformance.")
{
    public PolicyDecision Decision { get; } = decision;
}
