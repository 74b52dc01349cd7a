namespace Bulwark.Airgap;

/// <summary>A private temp folder removed on dispose (per-scan Trivy folders, extracted bundles).</summary>
public sealed class ScratchDirectory : IDisposable
{
    public ScratchDirectory(string prefix, string? parent = null)
    {
        Path = parent is null
            ? Directory.CreateTempSubdirectory(prefix + "-").FullName
            : Directory.CreateDirectory(System.IO.Path.Combine(parent, $".{prefix}-{Guid.NewGuid():N}"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
