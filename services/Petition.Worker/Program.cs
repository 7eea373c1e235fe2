using Petition.Worker;

WorkerApp.Create(args).Run();
