using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods;

namespace Amalgam.Engine.Tests.Merging;

/// <summary>The registry's declarations agree with the methods they create.</summary>
public class MethodRegistryTests
{
    private static readonly string[] DataDependent = ["regmean", "fisher", "adamerging", "cat"];

    [Test]
    public void RegistryListsTheContractsMethodsInOrder()
    {
        Assert.That(MethodRegistry.All.Select(m => m.Name), Is.EqualTo(new[]
        {
            "average", "task_arithmetic", "ties", "dare_linear", "dare_ties", "breadcrumbs", "pcb",
            "consensus", "regmean", "fisher", "adamerging", "cat",
            // after the contract's list: the data-free methods of issue 15
            "tsv_m", "iso_c", "iso_cts", "wudi", "emr",
        }));
    }

    [TestCaseSource(typeof(MethodRegistry), nameof(MethodRegistry.All))]
    public void SpecNeedsDataMatchesTheMethodCreatedWithDefaults(MethodSpec spec)
    {
        var method = spec.Create(new MergeSettings(spec, 3, new Dictionary<string, string>(), 0, new Dictionary<string, double?[]>()));
        Assert.That(spec.NeedsData, Is.EqualTo(method.NeedsData), spec.Name);
        Assert.That(spec.NeedsData, Is.EqualTo(DataDependent.Contains(spec.Name)), spec.Name);
    }
}
