namespace Bulwark.Compliance.Catalog;

/// <summary>
/// A check's live evidence from the Kubernetes API (<c>cluster: {rule: …, except-namespaces: […]}</c> in a catalog): one of
/// <see cref="Evidence.ClusterRules.Known"/>, evaluated when an apiserver answers; otherwise the check keeps its offline result.
/// </summary>
/// <param name="ExceptNamespaces">Namespaces the rule does not look at (e.g. kube-system, which the PSA config exempts).</param>
public sealed record ClusterQuery(string Rule, IReadOnlyList<string> ExceptNamespaces);
