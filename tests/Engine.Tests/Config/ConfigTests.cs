using Amalgam.Engine.Config;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Config;

public class ConfigTests
{
    private const string Folder = "/data/run";

    [Test]
    public void ReadsMergekitShapeWithOurAdditions()
    {
        var c = MergeConfig.Parse("""
            merge_method: task_arithmetic
            base_model: base.safetensors
            models:
              - model: base.safetensors
              - model: a.safetensors
                parameters:
                  weight: 0.5
              - model: /abs/b.safetensors
            parameters:
              lambda: 0.7
            dtype: bfloat16
            private: '^head\.'
            seed: 42
            out: merged.safetensors
            """, Folder, "merge.yaml");
        Assert.That(c.Method, Is.EqualTo("task_arithmetic"));
        Assert.That(c.Base, Is.EqualTo("/data/run/base.safetensors"));
        Assert.That(c.Models, Is.EqualTo(new[] { "/data/run/a.safetensors", "/abs/b.safetensors" }), "the base listed among models is skipped");
        Assert.That(c.Parameters, Is.EqualTo(new Dictionary<string, string> { ["lambda"] = "0.7" }));
        Assert.That(c.PerTask["weights"], Is.EqualTo(new double?[] { 0.5, null }));
        Assert.That(c.OutputDType, Is.EqualTo(DType.BF16));
        Assert.That(c.Private, Is.EqualTo(@"^head\."));
        Assert.That(c.Seed, Is.EqualTo(42UL));
        Assert.That(c.ToRequest().Out, Is.EqualTo("/data/run/merged.safetensors"));
        Assert.That(c.ToRequest("/elsewhere/x.safetensors").Out, Is.EqualTo("/elsewhere/x.safetensors"));
    }

    [TestCase("merge_method: ties\nbase_model: b\nmodels: [a]\ntokenizer_source: base\n", "unknown key 'tokenizer_source'")]
    [TestCase("merge_method: ties\nbase_model: b\nmodels: [{model: a, extra: 1}]\n", "unknown key 'extra'")]
    [TestCase("merge_method: ties\nmodels: [a]\n", "missing 'base_model'")]
    [TestCase("merge_method: ties\nbase_model: b\nmodels: []\n", "'models' must be a non-empty list")]
    [TestCase("merge_method: ties\nbase_model: b\nmodels: [a]\ndtype: int8\n", "dtype=int8")]
    [TestCase("merge_method: ties\nbase_model: b\nmodels: [a]\nseed: -1\n", "seed=-1")]
    [TestCase("merge_method: ties\nbase_model: b\nmodels: [{model: a, parameters: {weight: x}}]\n", "weights=x is not a number")]
    [TestCase("merge_method: [ties\n", "not valid YAML")]
    public void BadConfigsAreOneLineErrorsNamingTheKey(string yaml, string message)
    {
        var e = Assert.Throws<BadInputException>(() => MergeConfig.Parse(yaml, Folder, "merge.yaml"))!;
        Assert.That(e.Message, Does.Contain("merge.yaml").And.Contain(message));
        Assert.That(e.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void MissingOutIsAnErrorOnlyWhenNoOverrideIsGiven()
    {
        var c = MergeConfig.Parse("merge_method: ties\nbase_model: b\nmodels: [a]\n", Folder, "merge.yaml");
        Assert.That(() => c.ToRequest(), Throws.TypeOf<BadInputException>().With.Message.Contain("--out"));
        Assert.That(c.ToRequest("o.safetensors").Out, Is.EqualTo("o.safetensors"));
    }
}
