using Bulwark.Diagnostics;

namespace Bulwark.Compliance.Catalog;

/// <summary>A catalog file that cannot be used: the message names the file, line and how to fix it.</summary>
public sealed class CatalogException(string message) : BulwarkException(ErrorKind.Usage, message);
