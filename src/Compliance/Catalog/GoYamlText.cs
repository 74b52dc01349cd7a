using System.Text;
using System.Text.RegularExpressions;

namespace Bulwark.Compliance.Catalog;

/// <summary>
/// Accepts what go-yaml (kube-bench's parser) accepts and YamlDotNet refuses, without changing any value or line
/// number: a multi-line double-quoted scalar whose continuation lines are indented no deeper than its key
/// (kube-bench's cfg/*/etcd.yaml has one). Continuation lines of a flow scalar are folded with their leading
/// spaces dropped, so indenting them further leaves the value as it was.
/// </summary>
public static partial class GoYamlText
{
    public static string Normalize(string text)
    {
        if (!text.Contains('"', StringComparison.Ordinal))
        {
            return text;
        }
        var lines = text.Split('\n');
        var output = new StringBuilder(text.Length + 64);
        int? continuationIndent = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (continuationIndent is { } indent)
            {
                var leading = line.Length - line.TrimStart(' ').Length;
                if (line.Trim().Length > 0 && leading < indent)
                {
                    line = new string(' ', indent - leading) + line;
                }
                if (ClosingQuote(line, 0) >= 0)
                {
                    continuationIndent = null;
                }
            }
            else if (OpeningQuote().Match(line) is { Success: true } open && ClosingQuote(line, open.Length) < 0)
            {
                continuationIndent = open.Groups["indent"].Length + 1;
            }
            output.Append(line);
            if (i < lines.Length - 1)
            {
                output.Append('\n');
            }
        }
        return output.ToString();
    }

    /// <summary>Index of the first unescaped double quote at or after <paramref name="start"/>, or -1.</summary>
    private static int ClosingQuote(string line, int start)
    {
        for (var i = start; i < line.Length; i++)
        {
            if (line[i] == '\\')
            {
                i++;
            }
            else if (line[i] == '"')
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>A block mapping value or sequence item that starts with a double quote: `  key: "…` or `  - "…`.</summary>
    [GeneratedRegex(@"^(?<indent> *)(- +)?([^\s""'#\-][^:#""']*:\s+)?""")]
    private static partial Regex OpeningQuote();
}
