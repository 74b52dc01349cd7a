using System.Globalization;

namespace Bulwark.Etcd;

/// <summary>
/// A 5-field cron expression (minute hour day-of-month month day-of-week) as in crontab(5): numbers, names
/// (jan–dec, sun–sat), *, ranges a-b, steps */n and a-b/n, lists a,b; plus @hourly/@daily/@weekly/@monthly/@yearly.
/// When both day fields are restricted a day matches either (vixie cron). Day-of-week 7 is Sunday.
/// Kept instead of Cronos 0.13 (checked against these tests): Cronos requires both restricted day fields to match
/// ("0 0 13 * 5" is Friday the 13th, RKE2's robfig/cron runs on every 13th and every Friday), accepts a reversed range
/// ("5-1") that RKE2 rejects, and runs a time skipped by a DST jump at the jump instead of skipping it.
/// </summary>
public sealed class CronSchedule
{
    private static readonly string[] MonthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    private static readonly string[] DayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

    private readonly bool[] _minutes;
    private readonly bool[] _hours;
    private readonly bool[] _days;
    private readonly bool[] _months;
    private readonly bool[] _weekdays;
    private readonly bool _dayRestricted;
    private readonly bool _weekdayRestricted;

    private CronSchedule(string expression, bool[] minutes, bool[] hours, bool[] days, bool[] months, bool[] weekdays, bool dayRestricted, bool weekdayRestricted)
    {
        Expression = expression;
        _minutes = minutes;
        _hours = hours;
        _days = days;
        _months = months;
        _weekdays = weekdays;
        _dayRestricted = dayRestricted;
        _weekdayRestricted = weekdayRestricted;
    }

    public string Expression { get; }

    public static CronSchedule Parse(string expression) =>
        TryParse(expression, out var schedule, out var error) ? schedule! : throw new FormatException(error);

    public static bool TryParse(string expression, out CronSchedule? schedule, out string? error)
    {
        schedule = null;
        var text = expression.Trim().ToLowerInvariant() switch
        {
            "@yearly" or "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" or "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            var other => other,
        };
        var fields = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            error = $"'{expression}' has {fields.Length} fields; a cron expression has 5: minute hour day-of-month month day-of-week (e.g. \"0 */12 * * *\")";
            return false;
        }
        var minutes = ParseField(fields[0], "minute", 0, 59, null, out error);
        var hours = error is null ? ParseField(fields[1], "hour", 0, 23, null, out error) : null;
        var days = error is null ? ParseField(fields[2], "day-of-month", 1, 31, null, out error) : null;
        var months = error is null ? ParseField(fields[3], "month", 1, 12, MonthNames, out error) : null;
        var weekdays = error is null ? ParseField(fields[4], "day-of-week", 0, 7, DayNames, out error) : null;
        if (error is not null)
        {
            error = $"'{expression}': {error}";
            return false;
        }
        weekdays![0] |= weekdays[7];
        schedule = new CronSchedule(expression, minutes!, hours!, days!, months!, weekdays, !fields[2].StartsWith('*'), !fields[4].StartsWith('*'));
        return true;
    }

    /// <summary>The first matching minute strictly after <paramref name="after"/>, in the given time zone (default: local).</summary>
    public DateTimeOffset Next(DateTimeOffset after, TimeZoneInfo? zone = null)
    {
        zone ??= TimeZoneInfo.Local;
        var local = TimeZoneInfo.ConvertTime(after, zone).DateTime;
        var t = new DateTime(local.Year, local.Month, local.Day, local.Hour, local.Minute, 0, DateTimeKind.Unspecified).AddMinutes(1);
        var limit = t.AddYears(5);
        while (t < limit)
        {
            if (!_months[t.Month])
            {
                t = new DateTime(t.Year, t.Month, 1, 0, 0, 0, DateTimeKind.Unspecified).AddMonths(1);
                continue;
            }
            if (!DayMatches(t))
            {
                t = t.Date.AddDays(1);
                continue;
            }
            if (!_hours[t.Hour])
            {
                t = t.Date.AddHours(t.Hour + 1);
                continue;
            }
            if (!_minutes[t.Minute])
            {
                t = t.AddMinutes(1);
                continue;
            }
            if (zone.IsInvalidTime(t))
            {
                // Skipped by a daylight-saving jump: that wall-clock minute never happens.
                t = t.AddMinutes(1);
                continue;
            }
            return new DateTimeOffset(t, zone.GetUtcOffset(t));
        }
        throw new InvalidOperationException($"cron expression '{Expression}' never matches (e.g. February 30)");
    }

    private bool DayMatches(DateTime t)
    {
        var day = _days[t.Day];
        var weekday = _weekdays[(int)t.DayOfWeek];
        return _dayRestricted && _weekdayRestricted ? day || weekday : day && weekday;
    }

    private static bool[]? ParseField(string field, string what, int min, int max, string[]? names, out string? error)
    {
        error = null;
        var set = new bool[max + 1];
        foreach (var part in field.Split(','))
        {
            if (part.Length == 0)
            {
                error = $"{what} field '{field}' has an empty list item";
                return null;
            }
            var range = part;
            var step = 1;
            var slash = part.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0)
            {
                range = part[..slash];
                if (!int.TryParse(part[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out step) || step < 1)
                {
                    error = $"{what} field '{field}': step '{part[(slash + 1)..]}' must be a positive number";
                    return null;
                }
            }
            int from, to;
            if (range == "*")
            {
                (from, to) = (min, max == 7 ? 6 : max);
            }
            else
            {
                var dash = range.IndexOf('-', StringComparison.Ordinal);
                var low = dash >= 0 ? range[..dash] : range;
                if (!TryValue(low, min, max, names, out from))
                {
                    error = $"{what} field '{field}': '{low}' is not a {what} ({min}-{max}{(names is null ? "" : $" or {names[0]}-{names[^1]}")})";
                    return null;
                }
                to = from;
                if (dash >= 0)
                {
                    var high = range[(dash + 1)..];
                    if (!TryValue(high, min, max, names, out to))
                    {
                        error = $"{what} field '{field}': '{high}' is not a {what} ({min}-{max})";
                        return null;
                    }
                    if (to < from)
                    {
                        error = $"{what} field '{field}': range {from}-{to} runs backwards";
                        return null;
                    }
                }
                else if (slash >= 0)
                {
                    to = max; // "a/n" means from a to the end, every n
                }
            }
            for (var v = from; v <= to; v += step)
            {
                set[v] = true;
            }
        }
        return set;
    }

    private static bool TryValue(string text, int min, int max, string[]? names, out int value)
    {
        if (names is not null && Array.IndexOf(names, text) is var index and >= 0)
        {
            value = index + (names.Length == 12 ? 1 : 0);
            return true;
        }
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;
    }
}
