using Amalgam.Kernels.Device;

namespace Amalgam.Kernels.Tests.Device;

public sealed class DeviceContextTests
{
    [TestCase("cuda")]
    [TestCase("cuda:0")]
    [TestCase("cuda:3")]
    public void CudaWithoutADeviceIsOneLineOfBadInput(string device)
    {
        if (DeviceUnderTest.OnCuda) Assert.Ignore("the tests run on a CUDA device");
        BadInputException? error = null;
        try
        {
            using var context = DeviceContext.Create(device);
        }
        catch (BadInputException e)
        {
            error = e;
        }
        if (error is null) Assert.Ignore("this machine has a CUDA device");
        TestContext.Out.WriteLine(error!.Message);
        Assert.That(error.Message, Does.StartWith($"--device {device}: no CUDA device found (ILGPU sees: CPU; "));
        Assert.That(error.Message, Does.Contain("CUDA driver"));
        Assert.That(error.Message, Does.Not.Contain('\n').And.Not.Contain('\r'));
    }

    [TestCase("tpu")]
    [TestCase("cuda:")]
    [TestCase("cuda:-1")]
    [TestCase("cuda:x")]
    [TestCase("")]
    public void OtherDevicesAreBadInput(string device)
    {
        var e = Assert.Throws<BadInputException>(() => DeviceContext.Create(device).Dispose())!;
        Assert.That(e.Message, Does.StartWith($"--device {device}: expected cpu, cuda or cuda:N"));
    }

    [Test]
    public void DisposeIsIdempotentAndFinal()
    {
        var context = DeviceContext.Create("cpu");
        Assert.That(context.Name, Is.EqualTo("cpu"));
        Assert.That(context.IsCuda, Is.False);
        context.Dispose();
        context.Dispose();
        Assert.Throws<ObjectDisposedException>(() => _ = context.Accelerator);
        Assert.Throws<ObjectDisposedException>(() => context.Allocate<float>(4));
    }
}
