using Amalgam.Kernels;

namespace Amalgam.Engine.Methods;

/// <summary>
/// Every merge method by name, with its parameters and defaults declared in one place (each
/// method's file declares its own <see cref="MethodSpec"/> as a static `Spec`). The CLI, the YAML
/// reader, --help and the report all read this registry.
/// </summary>
public static class MethodRegistry
{
    public static IReadOnlyList<MethodSpec> All { get; } =
    [
        // Order of the contract's method list.
        Average.Spec,
        TaskArithmetic.Spec,
        Ties.Spec,
        DareLinear.Spec,
        DareTies.Spec,
        Breadcrumbs.Spec,
        Pcb.Spec,
        Consensus.Spec,
        RegMean.Spec,
        Fisher.Spec,
        AdaMerging.Spec,
        Cat.Spec,
    ];

    public static MethodSpec Get(string name) =>
        All.FirstOrDefault(m => m.Name == name)
        ?? throw new BadInputException($"unknown method '{name}' (known: {string.Join(", ", All.Select(m => m.Name))})");
}
