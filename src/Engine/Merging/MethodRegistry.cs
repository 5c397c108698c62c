using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods.AdaMerging;
using Amalgam.Engine.Methods.Cat;
using Amalgam.Engine.Methods.Fisher;
using Amalgam.Engine.Methods.Pcb;
using Amalgam.Engine.Methods;
using Amalgam.Kernels;

namespace Amalgam.Engine.Merging;

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
        AverageMethod.Spec,
        TaskArithmeticMethod.Spec,
        TiesMethod.Spec,
        DareLinearMethod.Spec,
        DareTiesMethod.Spec,
        BreadcrumbsMethod.Spec,
        PcbMethod.Spec,
        ConsensusMethod.Spec,
        RegMeanMethod.Spec,
        FisherMethod.Spec,
        AdaMergingMethod.Spec,
        CatMethod.Spec,
        TsvMMethod.Spec,
        IsoCMethod.Spec,
        IsoCtsMethod.Spec,
        WudiMethod.Spec,
        EmrMethod.Spec,
    ];

    public static MethodSpec Get(string name) =>
        All.FirstOrDefault(m => m.Name == name)
        ?? throw new BadInputException($"unknown method '{name}' (known: {string.Join(", ", All.Select(m => m.Name))})");
}
