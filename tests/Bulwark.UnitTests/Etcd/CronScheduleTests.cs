using Bulwark.Etcd;
using FsCheck;
using FsCheck.Fluent;

namespace Bulwark.Tests.Etcd;

public sealed class CronScheduleTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 14, 10, 7, 30, TimeSpan.Zero); // a Saturday

    private static DateTimeOffset Next(string expression, DateTimeOffset? after = null) =>
        CronSchedule.Parse(expression).Next(after ?? Start, TimeZoneInfo.Utc);

    [Theory]
    [InlineData("0 */12 * * *", "2026-03-14T12:00")]
    [InlineData("* * * * *", "2026-03-14T10:08")]
    [InlineData("*/15 * * * *", "2026-03-14T10:15")]
    [InlineData("5 4 * * *", "2026-03-15T04:05")]
    [InlineData("0 9-17/4 * * *", "2026-03-14T13:00")]
    [InlineData("30 1,22 * * *", "2026-03-14T22:30")]
    [InlineData("0 0 * * mon-fri", "2026-03-16T00:00")]
    [InlineData("0 0 * * 7", "2026-03-15T00:00")]
    [InlineData("0 0 * * 0", "2026-03-15T00:00")]
    [InlineData("0 0 1 * *", "2026-04-01T00:00")]
    [InlineData("0 0 29 2 *", "2028-02-29T00:00")]
    [InlineData("0 0 1 jan *", "2027-01-01T00:00")]
    [InlineData("0 0 13 * 5", "2026-03-20T00:00")] // both day fields restricted: the 13th OR a Friday, whichever is first
    [InlineData("10/20 * * * *", "2026-03-14T10:10")]
    [InlineData("@hourly", "2026-03-14T11:00")]
    [InlineData("@daily", "2026-03-15T00:00")]
    [InlineData("@weekly", "2026-03-15T00:00")]
    [InlineData("@monthly", "2026-04-01T00:00")]
    [InlineData("@yearly", "2027-01-01T00:00")]
    public void Next_run_is_the_first_matching_minute_after_now(string expression, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected + "Z", System.Globalization.CultureInfo.InvariantCulture), Next(expression));

    [Fact]
    public void Next_is_strictly_later_even_on_a_matching_minute()
    {
        var onTheHour = new DateTimeOffset(2026, 3, 14, 12, 0, 0, TimeSpan.Zero);
        Assert.Equal(onTheHour.AddHours(12), Next("0 */12 * * *", onTheHour));
    }

    [Fact]
    public void Daylight_saving_gaps_are_skipped_in_the_local_zone()
    {
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        // 2026-03-29 02:30 does not exist in Berlin (clocks jump 02:00 → 03:00).
        var next = CronSchedule.Parse("30 2 * * *").Next(new DateTimeOffset(2026, 3, 28, 12, 0, 0, TimeSpan.Zero), berlin);
        Assert.Equal(new DateTimeOffset(2026, 3, 30, 2, 30, 0, TimeSpan.FromHours(2)), next);
    }

    [Theory]
    [InlineData("0 */12 * *", "has 4 fields")]
    [InlineData("0 */12 * * * *", "has 6 fields")]
    [InlineData("60 * * * *", "'60' is not a minute")]
    [InlineData("* 24 * * *", "'24' is not a hour")]
    [InlineData("* * 0 * *", "'0' is not a day-of-month")]
    [InlineData("* * * 13 *", "'13' is not a month")]
    [InlineData("* * * * 8", "'8' is not a day-of-week")]
    [InlineData("*/0 * * * *", "step '0' must be a positive number")]
    [InlineData("5-1 * * * *", "runs backwards")]
    [InlineData("1,,2 * * * *", "empty list item")]
    [InlineData("every day", "has 2 fields")]
    [InlineData("* * * * funday", "'funday' is not a day-of-week")]
    public void Bad_expressions_are_rejected_with_the_field_and_reason(string expression, string reason)
    {
        Assert.False(CronSchedule.TryParse(expression, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Contains(expression, error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_impossible_date_is_reported_instead_of_looping_forever() =>
        Assert.Throws<InvalidOperationException>(() => Next("0 0 30 2 *"));

    [Fact]
    public void Every_next_time_matches_its_fields_and_has_no_earlier_match()
    {
        var cases = from minute in Gen.Choose(0, 59)
                    from hour in Gen.Choose(0, 23)
                    from offset in Gen.Choose(0, 500_000)
                    select (minute, hour, offset);
        Check.QuickThrowOnFailure(Prop.ForAll(Arb.From(cases), t =>
        {
            var after = Start.AddMinutes(t.offset);
            var next = Next($"{t.minute} {t.hour} * * *", after);
            return next > after && next.Minute == t.minute && next.Hour == t.hour && next - after <= TimeSpan.FromDays(1);
        }));
    }
}
