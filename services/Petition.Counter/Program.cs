using Petition.Counter;

CounterApp.Create(args).Run();
