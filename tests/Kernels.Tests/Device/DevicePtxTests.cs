using System.Reflection;
using System.Text.RegularExpressions;
using Amalgam.Kernels.Device;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Amalgam.Kernels.Tests.Device;

/// <summary>
/// Every device kernel, compiled to PTX for sm_90 (no GPU needed), rounds each float add, subtract,
/// multiply, divide and square root on its own: no unrounded add/sub/mul (which ptxas may contract
/// into fma), no fma/mad, no approximate or flush-to-zero forms. That is what makes CUDA's results
/// the SIMD kernels' bits.
/// </summary>
public sealed class DevicePtxTests
{
    private static readonly Regex Unrounded = new(@"\b(add|sub|mul)(\.sat)?\.f(32|64)\b", RegexOptions.Compiled);
    private static readonly Regex Fused = new(@"\b(fma|mad)(\.[a-z]+)*\.f(32|64)\b", RegexOptions.Compiled);
    private static readonly Regex Loose = new(@"\b(div|sqrt|rcp|rsqrt)\.(?!rn\.)[a-z.]*f(32|64)\b|\.approx\b|\.ftz\b", RegexOptions.Compiled);

    /// <summary>Static methods of the device namespace whose first parameter is the thread index, as CUDA loads them.</summary>
    private static IEnumerable<MethodInfo> Kernels() =>
        typeof(DeviceContext).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(DeviceContext).Namespace)
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(m => m.GetParameters() is [{ ParameterType: var p }, ..] && p == typeof(Index1D))
            .Select(m => m.IsGenericMethodDefinition ? m.MakeGenericMethod(typeof(PtxIeee)) : m);

    [Test]
    public void EveryKernelRoundsEachFloatOperation()
    {
        var kernels = Kernels().ToArray();
        Assert.That(kernels, Has.Length.GreaterThanOrEqualTo(11), "kernels found");
        using var context = Context.Create(b => b.CPU());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90,
            CudaInstructionSet.ISA_80, null);
        int rounded = 0;
        foreach (var kernel in kernels)
        {
            var entry = EntryPointDescription.FromImplicitlyGroupedKernel(kernel);
            string ptx = ((PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty)).PTXAssembly;
            string name = $"{kernel.DeclaringType!.Name}.{kernel.Name}";
            Assert.That(Unrounded.Match(ptx).Value, Is.Empty, $"{name}: unrounded float op");
            Assert.That(Fused.Match(ptx).Value, Is.Empty, $"{name}: fused float op");
            Assert.That(Loose.Match(ptx).Value, Is.Empty, $"{name}: approximate or flush-to-zero op");
            rounded += Regex.Count(ptx, @"\b(add|sub|mul|div|sqrt)\.rn\.f(32|64)\b");
        }
        Assert.That(rounded, Is.GreaterThan(20), "explicitly rounded ops seen (the checks look at the right text)");
    }
}
