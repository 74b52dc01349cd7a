namespace Bulwark.Supervisor;

/// <summary>
/// Who may call a supervisor endpoint, attached to the endpoint as metadata and enforced in one place (the
/// authentication step of <see cref="SupervisorServer"/>). An endpoint without it is for servers only: fail closed.
/// </summary>
/// <param name="Role">The role the Basic credentials must carry; <see cref="SupervisorRole.None"/> for public endpoints.</param>
/// <param name="NodeIdentity">Also require the node name and node password headers, checked against the recorded hash.</param>
public sealed record SupervisorAccess(SupervisorRole Role, bool NodeIdentity = false)
{
    public static readonly SupervisorAccess Public = new(SupervisorRole.None);
    public static readonly SupervisorAccess Node = new(SupervisorRole.Node);
    public static readonly SupervisorAccess NodeWithIdentity = new(SupervisorRole.Node, NodeIdentity: true);
    public static readonly SupervisorAccess Server = new(SupervisorRole.Server);
}
