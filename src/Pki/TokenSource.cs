using Bulwark.Config;
using Bulwark.Diagnostics;

namespace Bulwark.Pki;

/// <summary>
/// The one way Bulwark reads a cluster token: from a key's value (token, agent-token) or its file key (token-file,
/// agent-token-file), or from a token file of the layout. A file that cannot be read is a clear error with its path
/// and the fix, never an internal one.
/// </summary>
public static class TokenSource
{
    /// <summary>The server token as configured (token or token-file), trimmed; null when neither is set.</summary>
    public static string? Server(EffectiveConfig config) => Configured(config, ConfigKeys.Token, ConfigKeys.TokenFile);

    /// <summary>The agent token as configured (agent-token or agent-token-file), trimmed; null when neither is set.</summary>
    public static string? Agent(EffectiveConfig config) => Configured(config, ConfigKeys.AgentToken, ConfigKeys.AgentTokenFile);

    /// <summary>The value of <paramref name="value"/>, else the content of the file named by <paramref name="file"/>; null when neither is set.</summary>
    public static string? Configured(EffectiveConfig config, StringKey value, StringKey file)
    {
        if (config.Get(value) is { Length: > 0 } token)
        {
            return token.Trim();
        }
        var path = config.Get(file);
        return path.Length == 0 ? null : ReadFile(path, file.Name);
    }

    /// <summary>The configured server token, else the one the PKI wrote (server/token); empty when there is none yet.</summary>
    public static string ServerOrStored(EffectiveConfig config) =>
        Server(config) ?? (File.Exists(config.Layout.TokenFile) ? ReadFile(config.Layout.TokenFile, "the server token file") : "");

    /// <summary>A token file's content, trimmed; <paramref name="what"/> names it in errors (e.g. "token-file").</summary>
    public static string ReadFile(string path, string what)
    {
        if (Directory.Exists(path))
        {
            throw new BulwarkException(ErrorKind.Usage, $"{what} {path} is a folder, not a file; give the path of the token file itself (e.g. <data-dir>/server/token). Nothing was changed.");
        }
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (FileNotFoundException)
        {
            throw new BulwarkException(ErrorKind.Usage, $"{what} {path} does not exist; check the path (the first server writes <data-dir>/server/token). Nothing was changed.");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BulwarkException(ErrorKind.Unavailable, $"{what} {path} cannot be read ({e.Message}); check that it is readable by root. Nothing was changed.", e);
        }
    }

    /// <summary>A token file parsed; a malformed one names the file and the fix.</summary>
    public static ClusterToken ParseFile(string path, string what)
    {
        var text = ReadFile(path, what);
        try
        {
            return ClusterToken.Parse(text);
        }
        catch (TokenFormatException e)
        {
            throw new BulwarkException(ErrorKind.Refused, $"{what} {path} is not a valid token: {e.Message}. Restore the file from a backup or copy it again from the first server's <data-dir>/server/token.", e);
        }
    }
}
