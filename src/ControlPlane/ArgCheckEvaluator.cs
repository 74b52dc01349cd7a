using System.Globalization;

namespace Bulwark.ControlPlane;

/// <summary>Judges a value against an entry's check; returns null when it holds, else what is required, in words.</summary>
public static class ArgCheckEvaluator
{
    public static string? Evaluate(ArgCheck check, string? value, RenderContext context, string where)
    {
        foreach (var clause in check.Clauses)
        {
            var expected = clause.Values.SelectMany(v => context.Expand(v, where).Split(',')).Select(v => v.Trim()).Where(v => v.Length > 0).ToList();
            if (Fails(clause.Kind, expected, value))
            {
                return Describe(clause.Kind, expected);
            }
        }
        return null;
    }

    private static bool Fails(CheckKind kind, IReadOnlyList<string> expected, string? value)
    {
        if (kind == CheckKind.Absent)
        {
            return value is not null;
        }
        if (value is null)
        {
            // Not given at all: only "must be set" checks fail; the others judge values that are present.
            return kind == CheckKind.Set;
        }
        var items = value.Split(',').Select(v => v.Trim()).Where(v => v.Length > 0).ToList();
        return kind switch
        {
            CheckKind.Equals => !expected.Any(e => string.Equals(e, value.Trim(), StringComparison.OrdinalIgnoreCase)),
            CheckKind.Not => expected.Any(e => string.Equals(e, value.Trim(), StringComparison.OrdinalIgnoreCase)),
            CheckKind.Set => value.Trim().Length == 0,
            CheckKind.AtLeast => !long.TryParse(value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
                || n < long.Parse(expected[0], CultureInfo.InvariantCulture),
            CheckKind.Includes => expected.Any(e => !items.Contains(e, StringComparer.Ordinal)),
            CheckKind.Excludes => expected.Any(e => items.Contains(e, StringComparer.Ordinal)),
            CheckKind.SubsetOf => items.Count == 0 || items.Any(i => !expected.Contains(i, StringComparer.Ordinal)),
            CheckKind.OneOf => !expected.Contains(value.Trim(), StringComparer.Ordinal),
            _ => false,
        };
    }

    private static string Describe(CheckKind kind, IReadOnlyList<string> expected)
    {
        var list = string.Join(", ", expected);
        return kind switch
        {
            CheckKind.Equals => $"must be {list}",
            CheckKind.Not => $"must not be {list}",
            CheckKind.Set => "must be set to a file path",
            CheckKind.AtLeast => $"must be at least {list}",
            CheckKind.Includes => $"must include {list}",
            CheckKind.Excludes => $"must not include {list}",
            CheckKind.SubsetOf => $"may only list {list}",
            CheckKind.OneOf => $"must be one of {list}",
            CheckKind.Absent => "must not be set",
            _ => "is not allowed",
        };
    }
}
