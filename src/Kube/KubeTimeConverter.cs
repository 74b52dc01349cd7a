using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bulwark.Kube;

/// <summary>
/// Timestamps as the apiserver parses them: RFC 3339 in UTC with microseconds. metav1.MicroTime (a Lease's renewTime)
/// accepts exactly six fractional digits, which .NET's default seven would break; metav1.Time accepts them too.
/// </summary>
internal sealed class KubeTimeConverter : JsonConverter<DateTime>
{
    public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DateTime.Parse(reader.GetString() ?? throw new JsonException("a timestamp is null"), CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
}
