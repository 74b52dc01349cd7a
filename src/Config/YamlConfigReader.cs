using System.Text;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Bulwark.Config;

/// <summary>
/// Reads one config file into raw settings with line numbers. Uses YamlDotNet's event parser directly
/// (trim-safe, keeps marks), and accepts only a flat mapping of scalars and lists of scalars, as RKE2 does.
/// </summary>
public static class YamlConfigReader
{
    /// <summary>Config files are a few KiB; anything past this is not a config file.</summary>
    public const int MaxFileBytes = 1024 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static (IReadOnlyList<RawSetting> Settings, IReadOnlyList<ConfigProblem> Problems) ReadFile(string path)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (info.Length > MaxFileBytes)
            {
                return ([], [ConfigProblem.Error(path, null, $"file is {info.Length} bytes; a config file may be at most {MaxFileBytes} bytes. Is this the right file?")]);
            }
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ([], [ConfigProblem.Error(path, null, $"cannot read config file: {e.Message}")]);
        }
        return Read(path, bytes);
    }

    public static (IReadOnlyList<RawSetting> Settings, IReadOnlyList<ConfigProblem> Problems) Read(string name, byte[] bytes)
    {
        if (bytes.Length > MaxFileBytes)
        {
            return ([], [ConfigProblem.Error(name, null, $"file is {bytes.Length} bytes; a config file may be at most {MaxFileBytes} bytes. Is this the right file?")]);
        }
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return ([], [ConfigProblem.Error(name, null, "not a UTF-8 text file (binary data?); a config file is YAML text")]);
        }
        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            text = text[1..];
        }
        var nul = text.IndexOf('\0', StringComparison.Ordinal);
        if (nul >= 0)
        {
            var line = 1 + text.AsSpan(0, nul).Count('\n');
            return ([], [ConfigProblem.Error($"{name}:{line}", null, "contains a NUL byte (binary data?); a config file is YAML text")]);
        }
        return ReadText(name, text);
    }

    private static (IReadOnlyList<RawSetting>, IReadOnlyList<ConfigProblem>) ReadText(string name, string text)
    {
        var settings = new List<RawSetting>();
        var problems = new List<ConfigProblem>();
        var parser = new Parser(new StringReader(text));
        try
        {
            parser.Consume<StreamStart>();
            if (parser.TryConsume<StreamEnd>(out _))
            {
                problems.Add(ConfigProblem.Warning(name, null, "file is empty; it sets nothing"));
                return (settings, problems);
            }
            parser.Consume<DocumentStart>();
            if (parser.Accept<Scalar>(out var onlyScalar) && onlyScalar.Value.Length == 0 && onlyScalar.Style == ScalarStyle.Plain)
            {
                // A document holding only comments parses as one empty scalar.
                parser.Consume<Scalar>();
                problems.Add(ConfigProblem.Warning(name, null, "file has no settings"));
            }
            else if (parser.TryConsume<MappingStart>(out _))
            {
                ReadMapping(parser, name, settings, problems);
            }
            else
            {
                var start = parser.Current!.Start;
                problems.Add(ConfigProblem.Error(At(name, start), null,
                    "the top level must be a mapping of 'key: value' lines, as in RKE2's config.yaml"));
                return (settings, problems);
            }
            parser.Consume<DocumentEnd>();
            if (parser.Accept<DocumentStart>(out var second))
            {
                problems.Add(ConfigProblem.Error(At(name, second.Start), null,
                    "a config file holds one YAML document; remove the '---' and what follows, or move it to config.yaml.d/"));
            }
        }
        catch (YamlException e)
        {
            problems.Add(ConfigProblem.Error(At(name, e.Start), null, $"invalid YAML: {OneLine(e.Message)}"));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or OverflowException or EndOfStreamException)
        {
            // YamlDotNet's scanner throws these on some malformed streams (found by the fuzz test), e.g. a file that
            // ends inside an unclosed [ { or quote; name the last place it reached rather than its internal message.
            var line = parser.Current?.Start.Line is > 0 and var reached ? reached : 1 + text.TrimEnd().Count(c => c == '\n');
            problems.Add(ConfigProblem.Error($"{name}:{line}", null,
                "invalid YAML: the document is incomplete or malformed here (an unclosed '[', '{' or quote?); fix the syntax"));
        }
        return (settings, problems);
    }

    private static void ReadMapping(IParser parser, string name, List<RawSetting> settings, List<ConfigProblem> problems)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        while (!parser.TryConsume<MappingEnd>(out _))
        {
            if (!parser.TryConsume<Scalar>(out var keyScalar))
            {
                var bad = parser.Current!;
                problems.Add(ConfigProblem.Error(At(name, bad.Start), null, "keys must be plain names such as data-dir"));
                parser.SkipThisAndNestedEvents();
                parser.SkipThisAndNestedEvents();
                continue;
            }
            var line = (int)keyScalar.Start.Line;
            var rawKey = keyScalar.Value;
            var append = rawKey.EndsWith('+');
            var key = append ? rawKey[..^1] : rawKey;
            if (seen.TryGetValue(rawKey, out var firstLine))
            {
                problems.Add(ConfigProblem.Error($"{name}:{line}", rawKey,
                    $"duplicate key (first set on line {firstLine}); keep one of them"));
                parser.SkipThisAndNestedEvents();
                continue;
            }
            seen[rawKey] = line;
            var source = ConfigSource.File(name, line);
            if (UnsupportedTag(parser.Current) is { } tag)
            {
                problems.Add(ConfigProblem.Error($"{name}:{parser.Current!.Start.Line}", rawKey,
                    $"YAML tag {tag} is not accepted in a config file; remove it and write the value as plain text"));
                parser.SkipThisAndNestedEvents();
                continue;
            }
            switch (parser.Current)
            {
                case Scalar value:
                    parser.MoveNext();
                    settings.Add(new RawSetting(key, append, [value.Value], false, source));
                    break;
                case SequenceStart:
                    parser.MoveNext();
                    var items = new List<string>();
                    var ok = true;
                    while (!parser.TryConsume<SequenceEnd>(out _))
                    {
                        if (UnsupportedTag(parser.Current) is { } itemTag)
                        {
                            problems.Add(ConfigProblem.Error($"{name}:{parser.Current!.Start.Line}", rawKey,
                                $"YAML tag {itemTag} is not accepted in a config file; remove it and write the value as plain text"));
                            parser.SkipThisAndNestedEvents();
                            ok = false;
                        }
                        else if (parser.TryConsume<Scalar>(out var item))
                        {
                            items.Add(item.Value);
                        }
                        else
                        {
                            problems.Add(ConfigProblem.Error($"{name}:{parser.Current!.Start.Line}", rawKey,
                                "list items must be plain values, not nested lists or mappings"));
                            parser.SkipThisAndNestedEvents();
                            ok = false;
                        }
                    }
                    if (ok)
                    {
                        settings.Add(new RawSetting(key, append, items, true, source));
                    }
                    break;
                case MappingStart:
                    problems.Add(ConfigProblem.Error($"{name}:{line}", rawKey,
                        "expected a value or a list, got a nested mapping; Bulwark's config is flat, as RKE2's (write key: value)"));
                    parser.SkipThisAndNestedEvents();
                    break;
                case AnchorAlias:
                    problems.Add(ConfigProblem.Error($"{name}:{line}", rawKey, "YAML aliases (*name) are not supported here; write the value out"));
                    parser.SkipThisAndNestedEvents();
                    break;
                default:
                    problems.Add(ConfigProblem.Error($"{name}:{line}", rawKey, "unexpected YAML content"));
                    parser.SkipThisAndNestedEvents();
                    break;
            }
        }
    }

    /// <summary>
    /// Only the core schema's plain types may be tagged; anything else (<c>!!binary</c>, <c>!!python/object:…</c>,
    /// local <c>!tags</c>) would be silently read as text, so it is an error instead.
    /// </summary>
    private static string? UnsupportedTag(ParsingEvent? current)
    {
        var tag = current is NodeEvent node ? node.Tag : TagName.Empty;
        if (tag.IsEmpty || tag.IsNonSpecific)
        {
            return null;
        }
        var value = tag.Value;
        return value is "tag:yaml.org,2002:str" or "tag:yaml.org,2002:int" or "tag:yaml.org,2002:bool" or "tag:yaml.org,2002:float"
            or "tag:yaml.org,2002:null" or "tag:yaml.org,2002:seq"
            ? null
            : value.StartsWith("tag:yaml.org,2002:", StringComparison.Ordinal) ? "!!" + value["tag:yaml.org,2002:".Length..] : value;
    }

    private static string At(string name, Mark mark) => mark.Line > 0 ? $"{name}:{mark.Line}" : name;

    private static string OneLine(string message)
    {
        var text = message;
        var cut = text.IndexOf(" at (", StringComparison.Ordinal);
        return (cut > 0 ? text[..cut] : text).ReplaceLineEndings(" ").Trim();
    }
}
