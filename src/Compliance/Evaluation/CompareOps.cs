using System.Globalization;
using System.Text.RegularExpressions;

namespace Bulwark.Compliance.Evaluation;

/// <summary>kube-bench's compare operators, with its semantics (check/test.go), so its catalogs mean the same here.</summary>
public static class CompareOps
{
    public static readonly IReadOnlySet<string> Known = new HashSet<string>(
        ["eq", "noteq", "gt", "gte", "lt", "lte", "has", "nothave", "regex", "valid_elements", "bitmask"], StringComparer.Ordinal);

    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(1);

    /// <summary>True when <paramref name="actual"/> satisfies "op <paramref name="expected"/>".</summary>
    public static bool Evaluate(string op, string actual, string expected)
    {
        switch (op)
        {
            case "eq":
                return IsBool(actual) ? actual.ToLowerInvariant() == expected : actual == expected;
            case "noteq":
                return !(IsBool(actual) ? actual.ToLowerInvariant() == expected : actual == expected);
            case "gt" or "gte" or "lt" or "lte":
                if (!int.TryParse(actual.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var a)
                    || !int.TryParse(expected.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var b))
                {
                    return false;
                }
                return op switch { "gt" => a > b, "gte" => a >= b, "lt" => a < b, _ => a <= b };
            case "has":
                return actual.Contains(expected, StringComparison.Ordinal);
            case "nothave":
                return !actual.Contains(expected, StringComparison.Ordinal);
            case "regex":
                return Regex.IsMatch(actual, expected, RegexOptions.None, RegexTimeout);
            case "valid_elements":
                return AllElementsValid(SplitList(actual), SplitList(expected));
            case "bitmask":
                // Permissions at most as open as the mask: every bit set in the actual mode is set in the mask.
                try
                {
                    var requested = Convert.ToInt64(actual.Trim(), 8);
                    var max = Convert.ToInt64(expected.Trim(), 8);
                    return (max & requested) == requested;
                }
                catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
                {
                    return false;
                }
            default:
                throw new ArgumentException($"unknown compare op '{op}'; known ops: {string.Join(", ", Known)}", nameof(op));
        }
    }

    /// <summary>How an expectation reads in a report: "eq false", "600 or more restrictive".</summary>
    public static string Describe(string op, string expected) => op switch
    {
        "eq" => $"= {expected}",
        "noteq" => $"≠ {expected}",
        "gt" => $"> {expected}",
        "gte" => $"≥ {expected}",
        "lt" => $"< {expected}",
        "lte" => $"≤ {expected}",
        "has" => $"contains {expected}",
        "nothave" => $"does not contain {expected}",
        "regex" => $"matches /{expected}/",
        "valid_elements" => $"only elements of {expected}",
        "bitmask" => $"{expected} or more restrictive",
        _ => $"{op} {expected}",
    };

    private static bool IsBool(string value) => value.ToLowerInvariant() is "true" or "false";

    /// <summary>kube-bench's splitAndRemoveLastSeparator: trim, drop trailing commas, split, trim each element.</summary>
    private static List<string> SplitList(string s)
    {
        var clean = s.Trim().TrimEnd(',');
        return clean.Length == 0 ? [] : clean.Split(',').Select(x => x.Trim()).ToList();
    }

    private static bool AllElementsValid(List<string> source, List<string> allowed)
    {
        if (source.Count == 0 && allowed.Count == 0)
        {
            return true;
        }
        if ((source.Count == 0) != (allowed.Count == 0))
        {
            return false;
        }
        return source.All(allowed.Contains);
    }
}
