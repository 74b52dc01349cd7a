using System.Globalization;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Bulwark.Compliance.Evidence;

/// <summary>The text a JSONPath template prints (empty: nothing found, as kube-bench reads it) and the line of the first node it printed.</summary>
public sealed record JsonPathResult(string Text, int? Line);

/// <summary>
/// kubectl's JSONPath as kube-bench uses it (client-go util/jsonpath with missing keys allowed): a template of
/// literal text and {…} actions — a path ({.a.b}, {.a[0].b}, {.a[*].b}, {.a['dotted.key']}, {.a[1:3]}, {@} or {}
/// for the current node), a quoted literal ({','}), and {range PATH}…{end} repeating its body for each match.
/// Several matches of one action render space-separated, as kubectl prints them.
/// </summary>
public static class JsonPathQuery
{
    /// <summary>The nodes one path matches, from <paramref name="root"/> ({.a}, .a, @.a, $.a and [..] steps).</summary>
    public static IReadOnlyList<YamlNode> Select(YamlNode root, string path) => Select(root, root, path);

    /// <summary>Prints a whole template against <paramref name="root"/>, as kube-bench's executeJSONPath does.</summary>
    public static JsonPathResult Execute(YamlNode root, string template)
    {
        var actions = Parse(template);
        var output = new StringBuilder();
        int? line = null;
        var next = Run(actions, 0, root, root, output, ref line, template);
        if (next != actions.Count)
        {
            throw new FormatException($"JSONPath '{template}': {{end}} without {{range}}.");
        }
        return new JsonPathResult(output.ToString(), line);
    }

    private enum ActionKind
    {
        Text,
        Path,
        Range,
        End,
    }

    private sealed record TemplateAction(ActionKind Kind, string Value);

    /// <summary>Runs actions from <paramref name="start"/> until an unmatched {end} (returns its index) or the end.</summary>
    private static int Run(IReadOnlyList<TemplateAction> actions, int start, YamlNode root, YamlNode current, StringBuilder output, ref int? line, string template)
    {
        var i = start;
        while (i < actions.Count)
        {
            var action = actions[i];
            switch (action.Kind)
            {
                case ActionKind.End:
                    return i;
                case ActionKind.Text:
                    output.Append(action.Value);
                    i++;
                    break;
                case ActionKind.Path:
                    var nodes = Select(root, current, action.Value);
                    line ??= nodes.Count > 0 ? (int)nodes[0].Start.Line : null;
                    output.Append(Render(nodes));
                    i++;
                    break;
                case ActionKind.Range:
                    // As client-go: the body runs once per node the expression matches (.list[*] or .list[:] for a list's elements).
                    var items = Select(root, current, action.Value);
                    var bodyEnd = -1;
                    foreach (var item in items)
                    {
                        bodyEnd = Run(actions, i + 1, root, item, output, ref line, template);
                    }
                    if (bodyEnd < 0)
                    {
                        // No items: find the matching {end} without printing anything.
                        int? ignored = null;
                        bodyEnd = Run(actions, i + 1, root, new YamlMappingNode(), new StringBuilder(), ref ignored, template);
                    }
                    if (bodyEnd >= actions.Count)
                    {
                        throw new FormatException($"JSONPath '{template}': {{range}} without {{end}}.");
                    }
                    i = bodyEnd + 1;
                    break;
            }
        }
        return i;
    }

    /// <summary>Splits a template into literal text and {…} actions; braces inside quotes or brackets do not end an action.</summary>
    private static List<TemplateAction> Parse(string template)
    {
        var actions = new List<TemplateAction>();
        var text = new StringBuilder();
        var i = 0;
        while (i < template.Length)
        {
            if (template[i] != '{')
            {
                text.Append(template[i++]);
                continue;
            }
            if (text.Length > 0)
            {
                actions.Add(new TemplateAction(ActionKind.Text, text.ToString()));
                text.Clear();
            }
            var close = ActionEnd(template, i + 1);
            var inner = template[(i + 1)..close].Trim();
            i = close + 1;
            if (inner == "end")
            {
                actions.Add(new TemplateAction(ActionKind.End, ""));
            }
            else if (inner.StartsWith("range ", StringComparison.Ordinal))
            {
                actions.Add(new TemplateAction(ActionKind.Range, inner[6..].Trim()));
            }
            else if (inner.Length >= 2 && inner[0] is '\'' or '"' && inner[^1] == inner[0])
            {
                actions.Add(new TemplateAction(ActionKind.Text, inner[1..^1]));
            }
            else
            {
                actions.Add(new TemplateAction(ActionKind.Path, inner));
            }
        }
        if (text.Length > 0)
        {
            actions.Add(new TemplateAction(ActionKind.Text, text.ToString()));
        }
        return actions;
    }

    private static int ActionEnd(string template, int from)
    {
        char? quote = null;
        var depth = 0;
        for (var i = from; i < template.Length; i++)
        {
            var c = template[i];
            if (quote is not null)
            {
                quote = c == quote ? null : quote;
            }
            else if (c is '\'' or '"')
            {
                quote = c;
            }
            else if (c == '[')
            {
                depth++;
            }
            else if (c == ']')
            {
                depth--;
            }
            else if (c == '}' && depth == 0)
            {
                return i;
            }
        }
        throw new FormatException($"JSONPath '{template}': unclosed '{{'.");
    }

    private static IReadOnlyList<YamlNode> Select(YamlNode root, YamlNode current, string path)
    {
        var p = path.Trim();
        if (p.StartsWith('{') && p.EndsWith('}'))
        {
            p = p[1..^1].Trim();
        }
        IEnumerable<YamlNode> nodes = [current];
        if (p.StartsWith('$'))
        {
            nodes = [root];
            p = p[1..];
        }
        else if (p.StartsWith('@'))
        {
            p = p[1..];
        }
        var i = 0;
        while (i < p.Length)
        {
            if (p[i] == '.')
            {
                i++;
                var start = i;
                while (i < p.Length && p[i] is not ('.' or '['))
                {
                    i++;
                }
                var key = p[start..i];
                if (key == "*")
                {
                    nodes = nodes.SelectMany(All).ToList();
                }
                else if (key.Length > 0)
                {
                    nodes = nodes.SelectMany(n => Child(n, key)).ToList();
                }
            }
            else if (p[i] == '[')
            {
                var end = p.IndexOf(']', i);
                if (end < 0)
                {
                    throw new FormatException($"JSONPath '{path}': unclosed '['.");
                }
                var index = p[(i + 1)..end].Trim();
                i = end + 1;
                var step = IndexStep(index, path);
                nodes = nodes.SelectMany(step).ToList();
            }
            else
            {
                throw new FormatException($"JSONPath '{path}': expected '.' or '[' at position {i}.");
            }
        }
        return nodes.ToList();
    }

    /// <summary>One [..] step: [*], ['key'], [N] (negative from the end), or a slice [a:b] with either bound left out; checked before any node is visited.</summary>
    private static Func<YamlNode, IEnumerable<YamlNode>> IndexStep(string index, string path)
    {
        if (index == "*")
        {
            return All;
        }
        if (index.Length >= 2 && index[0] is '\'' or '"')
        {
            var key = index[1..^1];
            return n => Child(n, key);
        }
        if (index.Contains(':', StringComparison.Ordinal))
        {
            var bounds = index.Split(':');
            if (bounds.Length != 2)
            {
                throw new FormatException($"JSONPath '{path}': unsupported slice [{index}]; use [a:b].");
            }
            var (from, to) = (ParseBound(bounds[0], path), ParseBound(bounds[1], path));
            return n =>
            {
                var children = Elements(n);
                var start = Bound(from, 0, children.Count);
                var end = Bound(to, children.Count, children.Count);
                return start < end ? children.Skip(start).Take(end - start) : [];
            };
        }
        if (int.TryParse(index, NumberStyles.Integer, CultureInfo.InvariantCulture, out var at))
        {
            return n =>
            {
                var children = Elements(n);
                var i = at < 0 ? children.Count + at : at;
                return i >= 0 && i < children.Count ? [children[i]] : [];
            };
        }
        throw new FormatException($"JSONPath '{path}': unsupported index [{index}]; use [N], [a:b], [*] or ['key'].");
    }

    private static IList<YamlNode> Elements(YamlNode node) => node is YamlSequenceNode s ? s.Children : [];

    private static int? ParseBound(string text, string path) =>
        text.Trim().Length == 0 ? null
        : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n
        : throw new FormatException($"JSONPath '{path}': slice bound '{text}' is not a number.");

    private static int Bound(int? bound, int fallback, int count) =>
        bound is not { } n ? fallback : Math.Clamp(n < 0 ? count + n : n, 0, count);

    /// <summary>The text a test compares: the scalar's value, or the node as compact JSON.</summary>
    public static string Render(IReadOnlyList<YamlNode> nodes) => string.Join(' ', nodes.Select(Render));

    public static string Render(YamlNode node)
    {
        if (node is YamlScalarNode s)
        {
            return s.Value ?? "";
        }
        if (node is YamlSequenceNode seq && seq.Children.All(c => c is YamlScalarNode))
        {
            // A list of plain values reads as "a,b,c", the form kube-bench's flag values and valid_elements use.
            return string.Join(',', seq.Children.Select(c => ((YamlScalarNode)c).Value));
        }
        var sb = new StringBuilder();
        WriteJson(node, sb);
        return sb.ToString();
    }

    private static readonly HashSet<string> SecretKeys = new(["secret", "token", "password", "client-key-data", "token-file"], StringComparer.OrdinalIgnoreCase);

    private static IEnumerable<YamlNode> Child(YamlNode node, string key) =>
        node is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode(key), out var v) ? [v] : [];

    private static IEnumerable<YamlNode> All(YamlNode node) => node switch
    {
        YamlSequenceNode s => s.Children,
        YamlMappingNode m => m.Children.Values,
        _ => [],
    };

    private static void WriteJson(YamlNode node, StringBuilder sb)
    {
        switch (node)
        {
            case YamlMappingNode m:
                sb.Append('{');
                var first = true;
                foreach (var (k, v) in m.Children)
                {
                    sb.Append(first ? "" : ",");
                    first = false;
                    var name = ((YamlScalarNode)k).Value ?? "";
                    WriteString(name, sb);
                    sb.Append(':');
                    if (SecretKeys.Contains(name))
                    {
                        // Evidence ends up in reports people pass around: never copy key material into it.
                        WriteString("(redacted)", sb);
                    }
                    else
                    {
                        WriteJson(v, sb);
                    }
                }
                sb.Append('}');
                break;
            case YamlSequenceNode s:
                sb.Append('[');
                for (var i = 0; i < s.Children.Count; i++)
                {
                    sb.Append(i == 0 ? "" : ",");
                    WriteJson(s.Children[i], sb);
                }
                sb.Append(']');
                break;
            case YamlScalarNode scalar:
                var value = scalar.Value ?? "";
                var plain = scalar.Style == ScalarStyle.Plain && (value is "true" or "false" or "null" || double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
                if (plain)
                {
                    sb.Append(value);
                }
                else
                {
                    WriteString(value, sb);
                }
                break;
        }
    }

    private static void WriteString(string s, StringBuilder sb) =>
        sb.Append('"').Append(System.Text.Json.JsonEncodedText.Encode(s, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping).Value).Append('"');
}
