using Amalgam.Engine.Demo;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Demo;

public class DemoPlanTests
{
    [Test]
    public void EveryRegisteredMethodIsARowInRegistryOrder()
    {
        var rows = DemoPlan.Rows(null, steps: null);
        var expected = MethodRegistry.All.SelectMany(s => s.Name == DemoPlan.AdaMerging ? Enumerable.Repeat(s.Name, 6) : [s.Name]);
        Assert.That(rows.Select(r => r.Method), Is.EqualTo(expected));
        Assert.That(rows.Select(r => r.Id).Distinct().Count(), Is.EqualTo(rows.Count));
        Assert.That(rows.Where(r => r.Method != DemoPlan.AdaMerging).SelectMany(r => r.Settings), Is.Empty, "defaults only");
    }

    [Test]
    public void WudiRunsItsOfficialStepsExceptInAQuickRun()
    {
        Assert.That(new DemoOptions { Quick = true }.MethodSettings["wudi"], Is.EquivalentTo(new Dictionary<string, string> { ["steps"] = "10" }));
        Assert.That(new DemoOptions { Suite = DemoOptions.TextSuite }.MethodSettings, Is.Empty, "text suite: the official 300");
        Assert.That(new DemoOptions().MethodSettings, Is.Empty);
    }

    [Test]
    public void MethodsSubsetKeepsRegistryOrderAndRejectsUnknownNames()
    {
        var rows = DemoPlan.Rows(["ties", "average"], steps: 5);
        Assert.That(rows.Select(r => r.Id), Is.EqualTo(new[] { "average", "ties" }));
        var e = Assert.Throws<BadInputException>(() => DemoPlan.Rows(["ties", "nope"], null))!;
        Assert.That(e.Message, Does.StartWith("--methods: unknown method 'nope'").And.Contain("task_arithmetic"));
    }

    [Test]
    public void AdaMergingGivesTaskAndLayerWiseEachPlainAndPlusPlus()
    {
        var spec = new MethodSpec("adamerging", "test double",
            [ParameterSpec.Choice("granularity", "layer", "coefficients", "task", "layer"), ParameterSpec.Int("steps", 500, "steps")],
            _ => throw new NotSupportedException());
        var rows = DemoPlan.AdaMergingRows(spec, steps: 40).ToList();
        Assert.That(rows.Select(r => r.Name), Is.EqualTo(new[]
        {
            "AdaMerging (task-wise)", "AdaMerging++ (task-wise)", "AdaMerging (layer-wise)", "AdaMerging++ (layer-wise)",
        }));
        Assert.That(rows[0].Settings, Is.EquivalentTo(new Dictionary<string, string> { ["granularity"] = "task", ["steps"] = "40" }));
        Assert.That(rows[3].Settings, Is.EquivalentTo(new Dictionary<string, string> { ["granularity"] = "layer", ["ties_preprocess"] = "true", ["steps"] = "40" }));
        Assert.That(DemoPlan.AdaMergingRows(spec, steps: null).All(r => !r.Settings.ContainsKey("steps")));
    }

    [Test]
    public void AdaMergingWithAnImObjectiveAddsTaskAndLayerWiseImRows()
    {
        var spec = new MethodSpec("adamerging", "test double",
            [ParameterSpec.Choice("granularity", "layer", "coefficients", "task", "layer"), ParameterSpec.Int("steps", 500, "steps"),
             ParameterSpec.Choice("objective", "entropy", "loss", "entropy", "im")],
            _ => throw new NotSupportedException());
        var rows = DemoPlan.AdaMergingRows(spec, steps: 40, new Dictionary<string, string> { ["objective"] = "entropy", ["lr"] = "0.01" }).ToList();
        Assert.That(rows.Select(r => r.Id), Is.EqualTo(new[]
        {
            "adamerging_task", "adamerging_task_ties", "adamerging_layer", "adamerging_layer_ties", "adamerging_task_im", "adamerging_layer_im",
        }));
        Assert.That(rows[4].Name, Is.EqualTo("AdaMerging (task-wise, IM)"));
        Assert.That(rows[5].Settings, Is.EquivalentTo(new Dictionary<string, string> { ["granularity"] = "layer", ["steps"] = "40", ["lr"] = "0.01", ["objective"] = "im" }));
        Assert.That(rows[0].Settings["objective"], Is.EqualTo("entropy"), "a user's setting applies to the paper's rows");
        Assert.That(DemoPlan.AdaMergingRows(MethodRegistry.Get("adamerging"), steps: null).Select(r => r.Id), Has.Member("adamerging_layer_im"), "the registered method declares objective=im");
    }
}
