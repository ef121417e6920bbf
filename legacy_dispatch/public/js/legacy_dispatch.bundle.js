import "./dispatch_job.js";
