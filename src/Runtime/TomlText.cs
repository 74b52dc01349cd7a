using Tomlyn.Model;
using Tomlyn.Serialization;
using Tomlyn;

namespace Bulwark.Runtime;

/// <summary>TOML text from Tomlyn's table model, through its source-generated (trim/AOT-safe) metadata.</summary>
internal static class TomlText
{
    public static string Serialize(TomlTable table) => TomlSerializer.Serialize(table, TomlModelContext.Default.TomlTable);

    public static TomlTable Parse(string toml) => TomlSerializer.Deserialize(toml, TomlModelContext.Default.TomlTable)!;
}

[TomlSerializable(typeof(TomlTable))]
internal sealed partial class TomlModelContext : TomlSerializerContext
{
}
